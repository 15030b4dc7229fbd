"""QualityInstanceSensor: wait until a DataArts Quality run instance finishes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_dataarts import links, validation
from airflow_provider_dataarts._compat import AirflowSensorTimeout, BaseSensorOperator, conf
from airflow_provider_dataarts.links import DataArtsQualityLink
from airflow_provider_dataarts.operators.base import DataArtsBaseOperator
from airflow_provider_dataarts.operators.quality import (
    push_results,
    raise_for_verdict,
    raise_not_listed,
    raise_wait_error,
)


class QualityInstanceSensor(DataArtsBaseOperator, BaseSensorOperator):
    """Wait until a DataArts Quality run instance finishes; poke, reschedule or deferrable.

    SUCCESS succeeds; FAILED fails; ALARMING (a rule raised an alarm) fails unless
    ``fail_on_alarm=False``, which succeeds with a warning; RUNNING, SUSPENDING and UNKNOWN
    keep waiting. On finish it pushes ``instance`` (the run's summary, ids as strings) and
    ``results`` (its sub-rule results) to XCom.

    :param instance_id: the run instance to wait for (templated), e.g.
        ``"{{ ti.xcom_pull('rerun') }}"``.
    :param rule_type: 1 (quality job) or 2 (comparison job), narrows each lookup (templated).
    :param started_after: when the run was started, as a datetime or epoch milliseconds
        (templated); default: the DAG run's start. Each lookup reads only runs started since
        (less five minutes of clock skew), so it costs one request.
    :param fail_on_alarm: fail when the run ends ALARMING.
    :param not_found_grace: seconds after ``started_after`` within which the run must appear
        in the run-result list; after that a run still not listed fails the sensor.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).

    Polling interval, timeout and mode are BaseSensorOperator's ``poke_interval``,
    ``timeout`` and ``mode``.
    """

    template_fields = (*DataArtsBaseOperator.template_fields, "instance_id", "rule_type", "started_after")
    operator_extra_links = (DataArtsQualityLink(),)
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        instance_id: str,
        rule_type: int | str | None = None,
        started_after: datetime | int | str | None = None,
        fail_on_alarm: bool = True,
        not_found_grace: float = 300.0,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.now(lambda value: validation.identifier("instance_id", value), instance_id)
        validation.now(lambda value: value in (None, "") or validation.rule_type(value), rule_type)
        validation.now(lambda value: validation.epoch_ms("started_after", value), started_after)
        validation.boolean("fail_on_alarm", fail_on_alarm)
        validation.seconds("not_found_grace", not_found_grace, allow_zero=True)
        if deferrable is not None:
            validation.boolean("deferrable", deferrable)
        self.instance_id = instance_id
        self.rule_type = rule_type
        self.started_after = started_after
        self.fail_on_alarm = fail_on_alarm
        self.not_found_grace = not_found_grace
        if deferrable is None:
            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.deferrable = deferrable
        self._last_status: str | None = None
        self._seen: dict[str, Any] | None = None  # the last lookup's answer, to pin the next one

    def _started_after_ms(self, context: Any) -> int | None:
        value = self.started_after if self.started_after not in (None, "") else context["dag_run"].start_date
        return validation.epoch_ms("started_after", value)

    def _rule_type(self) -> int | None:
        return None if self.rule_type in (None, "") else validation.rule_type(self.rule_type)

    def _instance_id(self) -> str:
        # After rendering: a failed xcom_pull gives None, "None" or "", never worth a grace period.
        return validation.identifier("instance_id", self.instance_id)

    def _not_found_deadline(self, started_ms: int | None) -> float:
        return (started_ms / 1000 if started_ms else time.time()) + self.not_found_grace

    def poke(self, context: Any) -> bool:
        from airflow_provider_dataarts.triggers.quality import verdict

        instance_id = self._instance_id()
        started_ms = self._started_after_ms(context)
        instance = self.hook.get_quality_instance(
            instance_id, rule_type=self._rule_type(), started_after=started_ms, seen=self._seen
        )
        self._seen = instance or self._seen
        self._link(context, instance_id)
        if instance is None:
            if time.time() >= self._not_found_deadline(started_ms):
                raise_not_listed(self, instance_id, self._rule_type(), started_ms, self.not_found_grace)
            self.log.info("Quality instance %s is not listed yet", instance_id)
            return False
        if instance.get("run_status") != self._last_status:
            self._last_status = instance.get("run_status")
            self.log.info("Quality instance %s is %s", instance_id, self._last_status)
        event = verdict(instance_id, instance, self.fail_on_alarm)
        if event is None:
            return False
        push_results(self, context, event)
        raise_for_verdict(self, event)
        return True

    def _link(self, context: Any, instance_id: str) -> None:
        config = self.hook.transport.config
        self.push_console_url(context, links.quality_instance_url(config.region, config.workspace, instance_id))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # already finished: no need to defer
            return None
        from airflow_provider_dataarts.triggers.quality import QualityInstanceTrigger

        started_ms = self._started_after_ms(context)
        self.defer(
            trigger=QualityInstanceTrigger(
                self._instance_id(),
                rule_type=self._rule_type(),
                started_after=started_ms,
                start_time=(self._seen or {}).get("start_time"),
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout,
                not_found_deadline=self._not_found_deadline(started_ms),
                fail_on_alarm=self.fail_on_alarm,
                try_number=context["ti"].try_number,
                **self.connection_kwargs,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + 60),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        """Turn the trigger's event into the sensor's outcome."""
        if self.resumed_with_a_stale_event(context, event):
            return self.execute(context)
        self._link(context, event["instance_id"])
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout {self.timeout:.0f} s)")
        if event["status"] == "not_found":
            raise_not_listed(
                self, event["instance_id"], self._rule_type(), event.get("started_after"), self.not_found_grace
            )
        if event["status"] == "error":
            raise_wait_error(event)
        push_results(self, context, event)
        raise_for_verdict(self, event)
