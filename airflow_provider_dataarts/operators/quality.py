"""DataArts Quality operators: start/stop a quality job's scheduling, rerun a job and wait for its verdict."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from airflow_provider_dataarts import links, validation
from airflow_provider_dataarts._compat import conf
from airflow_provider_dataarts.exceptions import (
    DataArtsApiError,
    DataArtsInputError,
    DataArtsQualityFailure,
    DataArtsWaitError,
)
from airflow_provider_dataarts.links import DataArtsQualityLink
from airflow_provider_dataarts.operators.base import DataArtsBaseOperator

try:
    from airflow.sdk import ResumableJobMixin  # Airflow 3.3+: the run id survives in task_state_store
except ImportError:

    class ResumableJobMixin:  # type: ignore[no-redef]
        """The contract of Airflow 3.3's ``ResumableJobMixin``, for Airflow versions without it.

        There is no ``task_state_store`` to keep the run id across tries, so a retry asks
        DataArts instead: :meth:`find_earlier_job` looks for this task's run among those started
        since the DAG run began. A run still going is reattached to; one that succeeded is
        returned; otherwise a new run is submitted.
        """

        external_id_key = "remote_job_id"

        def execute_resumable(self, context: Any) -> Any:
            earlier = self.find_earlier_job(context) if context["ti"].try_number > 1 else None
            if earlier is not None:
                status = self.get_job_status(earlier, context)
                if self.is_job_active(status):
                    self.log.info("Reattaching to run %s of an earlier try (%s)", earlier["instance_id"], status)
                    return self.poll_until_complete(earlier, context)
                if self.is_job_succeeded(status):
                    return self.get_job_result(earlier, context)
            external_id = self.submit_job(context)
            self.poll_until_complete(external_id, context)
            return self.get_job_result(external_id, context)


ACTIVE = ("RUNNING", "SUSPENDING", "UNKNOWN", "NOT_LISTED")
NOT_FOUND_GRACE = 300.0  # seconds a fresh run may take to appear in the run-result list


def _default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


class QualityJobActionOperator(DataArtsBaseOperator):
    """Start or stop the scheduling of a DataArts Quality job (``POST .../quality-tasks/action``).

    :param rule_id: quality job id (templated); sent as a string.
    :param action: ``start`` or ``stop`` (templated).

    Returns (and pushes as ``return_value``) the API's message.
    """

    template_fields = (*DataArtsBaseOperator.template_fields, "rule_id", "action")
    operator_extra_links = (DataArtsQualityLink(),)
    ui_color = "#e8f4fd"

    def __init__(self, *, rule_id: str | int, action: str = "start", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        validation.now(lambda value: validation.identifier("rule_id", value), rule_id)
        validation.now(validation.action, action)
        self.rule_id = rule_id
        self.action = action

    def execute(self, context: Any) -> str:
        started = time.monotonic()
        message = self.hook.quality_job_action(self.rule_id, self.action)
        config = self.hook.transport.config
        self.push_console_url(context, links.quality_job_url(config.region, config.workspace, str(self.rule_id)))
        self.log.info(
            "Quality job %s: scheduling %s accepted in %.0f ms: %s",
            self.rule_id,
            self.action,
            (time.monotonic() - started) * 1000,
            message,
        )
        return message


class RerunQualityOperator(ResumableJobMixin, DataArtsBaseOperator):
    """Rerun a DataArts Quality job or comparison job, and optionally wait for its verdict.

    Returns (and pushes as ``return_value``) the new run's ``instance_id``. With
    ``wait_for_completion`` it also pushes ``instance`` (the run's summary) and ``results``
    (its sub-rule results), and fails when the run FAILED, or raised an alarm (ALARMING)
    while ``fail_on_alarm`` is set.

    A retried task never starts a second run while its first one is still going: on
    Airflow 3.3+ the run id is kept in ``task_state_store``; on older Airflow the retry finds
    the run among those of this job started since the DAG run began.

    :param rule_id: quality or comparison job id (templated).
    :param rule_type: 1 for a quality job, 2 for a comparison job (templated).
    :param wait_for_completion: wait until the run finishes.
    :param deferrable: wait in the triggerer instead of holding a worker slot
        (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status lookups while waiting.
    :param timeout: seconds to wait for the verdict (``None``: no limit). When it passes the
        run is cancelled and the task fails.
    :param fail_on_alarm: fail when the run ends ALARMING (a rule raised an alarm); ``False``
        lets the task succeed with a warning.
    """

    template_fields = (*DataArtsBaseOperator.template_fields, "rule_id", "rule_type")
    operator_extra_links = (DataArtsQualityLink(),)
    external_id_key = "dataarts_quality_run"
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        rule_id: str | int,
        rule_type: int | str = 1,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        fail_on_alarm: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.now(lambda value: validation.identifier("rule_id", value), rule_id)
        validation.now(validation.rule_type, rule_type)
        validation.seconds("poll_interval", poll_interval)
        validation.seconds("timeout", timeout, allow_none=True)
        validation.boolean("wait_for_completion", wait_for_completion)
        validation.boolean("fail_on_alarm", fail_on_alarm)
        if deferrable is not None:
            validation.boolean("deferrable", deferrable)
        self.rule_id = rule_id
        self.rule_type = rule_type
        self.wait_for_completion = wait_for_completion
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.fail_on_alarm = fail_on_alarm
        self.instance_id: str | None = None

    def execute(self, context: Any) -> Any:
        return self.execute_resumable(context)

    # -- ResumableJobMixin contract ----------------------------------------------------------

    def submit_job(self, context: Any) -> dict[str, Any]:
        submitted_at = int(time.time() * 1000)
        started = time.monotonic()
        instance_id = self.hook.rerun_quality_job(self.rule_id, self.rule_type)
        self.log.info(
            "Reran quality job %s (rule_type %s): instance %s, accepted in %.0f ms",
            self.rule_id,
            self.rule_type,
            instance_id,
            (time.monotonic() - started) * 1000,
        )
        # Nothing else may happen here: the run id is stored for a retry only once this returns.
        return {"instance_id": instance_id, "submitted_at": submitted_at, "start_time": None}

    def get_job_status(self, external_id: dict[str, Any], context: Any) -> str:
        instance = self.hook.get_quality_instance(
            external_id["instance_id"], rule_type=self.rule_type, started_after=external_id["submitted_at"]
        )
        return instance["run_status"] if instance else "NOT_LISTED"

    def is_job_active(self, status: str) -> bool:
        return status in ACTIVE

    def is_job_succeeded(self, status: str) -> bool:
        return status == "SUCCESS" or (status == "ALARMING" and not self.fail_on_alarm)

    def poll_until_complete(self, external_id: dict[str, Any], context: Any) -> str:
        self._link_instance(context, external_id["instance_id"])
        if not self.wait_for_completion:
            return self.instance_id
        trigger = self._trigger({**external_id, "start_time": self._start_time(external_id)}, context)
        if self.deferrable:
            self.defer(trigger=trigger, method_name="execute_complete", timeout=self._defer_timeout())
        self.log.info("Waiting for quality instance %s, checking every %s s", self.instance_id, self.poll_interval)
        return self.execute_complete(context, asyncio.run(_first_event(trigger)))

    def _start_time(self, external_id: dict[str, Any]) -> int | None:
        """The run's start time, so every poll can be pinned to it (one request, one row).

        Right after the rerun the run is at the top of the newest-first list, so this costs one
        request. It is only a hint: if the lookup fails, the wait finds the run by itself.
        """
        if external_id.get("start_time"):
            return external_id["start_time"]
        try:
            instance = self.hook.get_quality_instance(
                external_id["instance_id"], rule_type=self.rule_type, started_after=external_id["submitted_at"]
            )
        except DataArtsApiError as error:
            self.log.warning("Could not look up instance %s yet (%s); the wait will", external_id["instance_id"], error)
            return None
        return instance and instance.get("start_time")

    def get_job_result(self, external_id: dict[str, Any], context: Any) -> str:
        return external_id["instance_id"]

    def find_earlier_job(self, context: Any) -> dict[str, Any] | None:
        """Airflow < 3.3: the newest run of this job started since the DAG run began, if any."""
        dag_run_start = context["dag_run"].start_date
        since = int(dag_run_start.timestamp() * 1000) if dag_run_start else int(time.time() * 1000) - 86_400_000
        runs, offset, count = [], 0, 1
        while offset < count:
            page = self.hook.list_quality_instances(
                task_type=validation.TASK_TYPES[validation.rule_type(self.rule_type)],
                start_time=since - 60_000,
                limit=100,
                offset=offset,
            )
            resources = page.get("resources") or []
            runs += [run for run in resources if str(run.get("task_id")) == str(self.rule_id)]
            offset, count = offset + len(resources), (int(page.get("count") or 0) if resources else 0)
        if not runs:
            return None
        newest = max(runs, key=lambda run: run.get("start_time") or 0)
        start = newest.get("start_time")
        return {"instance_id": str(newest["id"]), "submitted_at": start or since, "start_time": start}

    # -- waiting -------------------------------------------------------------------------------

    def _trigger(self, external_id: dict[str, Any], context: Any):
        from airflow_provider_dataarts.triggers.quality import QualityInstanceTrigger

        now = time.time()
        return QualityInstanceTrigger(
            external_id["instance_id"],
            rule_type=validation.rule_type(self.rule_type),
            started_after=external_id["submitted_at"],
            start_time=external_id.get("start_time"),
            poll_interval=self.poll_interval,
            deadline=now + self.timeout if self.timeout else None,
            not_found_deadline=external_id["submitted_at"] / 1000 + NOT_FOUND_GRACE,
            fail_on_alarm=self.fail_on_alarm,
            cancel_on_kill=True,
            try_number=context["ti"].try_number,
            **self.connection_kwargs,
        )

    def _defer_timeout(self) -> timedelta | None:
        # The trigger keeps the deadline itself (and cancels the run); Airflow's own defer
        # timeout is only a backstop should the trigger never answer.
        return timedelta(seconds=self.timeout + 3 * self.poll_interval + 60) if self.timeout else None

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        """Turn the trigger's event into the task's outcome."""
        if self.resumed_with_a_stale_event(context, event):
            return self.execute(context)
        self._link_instance(context, event["instance_id"])
        status = event["status"]
        if status == "error":  # the run may still be going: keep its id so a retry reattaches
            raise_wait_error(event)
        if status == "timeout":
            self._cancel("it passed the timeout")
            self._forget_run(context)
            raise DataArtsWaitError(f"{event['message']} (timeout {self.timeout} s); the run was cancelled")
        if status == "not_found":
            self._forget_run(context)
            raise_not_listed(self, event["instance_id"], self.rule_type, event.get("started_after"), NOT_FOUND_GRACE)
        push_results(self, context, event)
        self._forget_run(context)  # last: a crash before this still finds the finished run on retry
        raise_for_verdict(self, event)
        return self.instance_id

    def _link_instance(self, context: Any, instance_id: str) -> None:
        self.instance_id = instance_id
        config = self.hook.transport.config
        self.push_console_url(context, links.quality_instance_url(config.region, config.workspace, instance_id))

    def _forget_run(self, context: Any) -> None:
        # The verdict is in: a later clear of this task must start a fresh run, not find this one.
        store = context.get("task_state_store")
        if store is not None:
            store.delete(self.external_id_key)

    def _cancel(self, why: str) -> None:
        try:
            self.hook.cancel_quality_instance(self.instance_id)
            self.log.info("Cancelled quality instance %s because %s", self.instance_id, why)
        except Exception as error:  # the task is failing or being killed anyway
            self.log.warning("Could not cancel quality instance %s: %s", self.instance_id, error)

    def on_kill(self) -> None:
        """Cancel the run this task started, when the task is killed while waiting in the worker."""
        if self.instance_id and self.wait_for_completion:
            self._cancel("the task was killed")


def raise_not_listed(task: Any, instance_id: str, rule_type: Any, started_after: int | None, waited: float) -> None:
    """Say why an instance is still not listed: the filters the lookups used, and the likely mistake.

    A wrong ``rule_type`` is the common one, so the other type is looked up once before failing.
    """
    from airflow_provider_dataarts.hooks.dataarts import LOOKUP_SKEW_MS

    rule_type = validation.rule_type(rule_type) if rule_type not in (None, "") else None
    kinds = {
        None: "runs of either rule_type",
        **{n: f"{kind} runs (rule_type {n})" for n, kind in validation.RULE_TYPES.items()},
    }
    window = ""
    if started_after is not None:
        low, high = started_after - LOOKUP_SKEW_MS, int(time.time() * 1000) + LOOKUP_SKEW_MS
        window = f" started between {validation.utc(low)} and {validation.utc(high)}"
    message = (
        f"Quality instance {instance_id} is not listed among {kinds[rule_type]}{window}, "
        f"{waited:.0f} s after started_after"
    )
    if rule_type is not None:
        other = 3 - rule_type
        if task.hook.get_quality_instance(instance_id, rule_type=other, started_after=started_after) is not None:
            raise DataArtsInputError(f"{message}; it is listed among {kinds[other]}: set rule_type={other}")
        message += f", nor among {kinds[other]}"
    raise DataArtsWaitError(f"{message}: check instance_id, and started_after if the run started earlier")


def raise_wait_error(event: dict[str, Any]) -> None:
    """Raise what ended a wait: the API error itself when there was one."""
    if event.get("api_error"):
        raise DataArtsApiError.create(**event["api_error"])
    if event.get("input_error"):  # the trigger found the input unusable: retrying cannot fix that
        raise DataArtsInputError(event["message"])
    raise DataArtsWaitError(event["message"])


def push_results(task: Any, context: Any, event: dict[str, Any]) -> None:
    """Push the finished run's ``instance`` summary and its sub-rule ``results`` to XCom."""
    ti = context["ti"]
    instance_id = event["instance_id"]
    ti.xcom_push(key="instance", value=event["instance"])
    try:
        ti.xcom_push(key="results", value=task.hook.get_quality_instance_result(instance_id))
    except Exception as error:
        task.log.warning("Could not read the sub-rule results of instance %s: %s", instance_id, error)


def raise_for_verdict(task: Any, event: dict[str, Any]) -> None:
    """Succeed (warning on a tolerated alarm), or fail without retries: a verdict is a result, not an outage."""
    if event["status"] == "success":
        log = task.log.warning if event["run_status"] == "ALARMING" else task.log.info
        log("%s", event["message"])
        return
    raise DataArtsQualityFailure(event["message"])


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise RuntimeError("the trigger ended without an event")
