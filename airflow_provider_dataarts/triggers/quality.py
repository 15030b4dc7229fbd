"""QualityInstanceTrigger: waits for a DataArts Quality run instance to finish, asynchronously."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

TERMINAL = ("SUCCESS", "FAILED", "ALARMING")


def instance_summary(instance: dict[str, Any]) -> dict[str, Any]:
    """The instance as XCom and events carry it: ids as strings (19 digits do not survive a float)."""
    summary = dict(instance)
    for key in ("id", "task_id"):
        if summary.get(key) is not None:
            summary[key] = str(summary[key])
    return summary


def verdict(instance_id: str, instance: dict[str, Any] | None, fail_on_alarm: bool) -> dict[str, Any] | None:
    """The event for a lookup result, or ``None`` while the instance is still running.

    ``status`` is ``success``, ``failed`` or ``alarm`` (ALARMING with ``fail_on_alarm``).
    """
    run_status = instance and instance.get("run_status")
    if run_status not in TERMINAL:
        return None
    assert instance is not None
    status = {"SUCCESS": "success", "FAILED": "failed"}.get(run_status) or ("alarm" if fail_on_alarm else "success")
    message = {
        "success": f"Quality instance {instance_id} finished with {run_status}",
        "failed": f"Quality instance {instance_id} ({instance.get('name')}) FAILED",
        "alarm": f"Quality instance {instance_id} ({instance.get('name')}) raised an alarm on the data (ALARMING)",
    }[status]
    return {
        "status": status,
        "message": message,
        "instance_id": instance_id,
        "run_status": run_status,
        "instance": instance_summary(instance),
    }


class QualityInstanceTrigger(BaseTrigger):
    """Polls the run-result list until one quality instance finishes; yields exactly one event.

    The event is ``{"status", "message", "instance_id", "run_status", "instance"}`` with
    ``status`` one of ``success``, ``failed``, ``alarm``, ``timeout``, ``not_found`` or
    ``error`` (then ``api_error`` holds the ``DataArtsApiError`` fields, or ``input_error`` is
    ``True`` for input the trigger found unusable): everything the
    task needs to resume, so nothing is passed through ``defer(kwargs=...)``. ``run()`` only
    reads; it never starts or reruns anything, so a trigger re-created after a triggerer
    restart (or running twice for a moment) is harmless.

    :param instance_id: the run instance to wait for.
    :param rule_type: 1 (quality job) or 2 (comparison job), narrows each lookup.
    :param started_after: epoch milliseconds the run started after; narrows each lookup.
    :param start_time: the run's own ``start_time`` (epoch ms) if already known: every lookup is
        then pinned to it and costs one request and one row, however many runs started together.
    :param poll_interval: seconds between lookups.
    :param deadline: epoch seconds after which a ``timeout`` event is sent (``None``: wait forever).
        Absolute, so a re-created trigger keeps the original deadline.
    :param not_found_deadline: epoch seconds after which an instance that is still not listed
        ends the wait with a ``not_found`` event.
    :param fail_on_alarm: ``False`` turns ALARMING into a ``success`` event.
    :param cancel_on_kill: cancel the instance when a user marks the deferred task failed or
        success, or clears it (Airflow 3.3+ calls ``on_kill``); set by the operator that started it.
    :param try_number: the task try that deferred; every event carries it, so a later try that
        Airflow resumes with this event (Airflow 3.0 does, apache/airflow#62845) can tell.
    :param dataarts_conn_id: Airflow connection of type ``dataarts``.
    :param region: overrides the connection's region.
    :param project_id: overrides the connection's project id.
    :param workspace: overrides the connection's workspace id.
    :param hook_params: more ``DataArtsHook`` arguments (JSON-safe values).

    Unknown keyword arguments (from another provider version, during an upgrade) are ignored
    with a warning.
    """

    def __init__(
        self,
        instance_id: str,
        *,
        rule_type: int | None = None,
        started_after: int | None = None,
        start_time: int | None = None,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        not_found_deadline: float | None = None,
        fail_on_alarm: bool = True,
        cancel_on_kill: bool = False,
        try_number: int | None = None,
        dataarts_conn_id: str = "dataarts_default",
        region: str | None = None,
        project_id: str | None = None,
        workspace: str | None = None,
        hook_params: dict[str, Any] | None = None,
        **unknown: Any,
    ) -> None:
        super().__init__()
        if unknown:
            # Stored by a newer (or older) provider version than this triggerer runs, e.g. during
            # a rolling upgrade: wait with what is understood rather than fail the task.
            self.log.warning("Ignoring trigger arguments this provider version does not know: %s", sorted(unknown))
        self.instance_id = str(instance_id)
        self.rule_type = rule_type
        self.started_after = started_after
        self.start_time = start_time
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.not_found_deadline = not_found_deadline
        self.fail_on_alarm = fail_on_alarm
        self.cancel_on_kill = cancel_on_kill
        self.try_number = try_number
        self.dataarts_conn_id = dataarts_conn_id
        self.region = region
        self.project_id = project_id
        self.workspace = workspace
        self.hook_params = hook_params or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            name: getattr(self, name)
            for name in (
                "instance_id",
                "rule_type",
                "started_after",
                "start_time",
                "poll_interval",
                "deadline",
                "not_found_deadline",
                "fail_on_alarm",
                "cancel_on_kill",
                "try_number",
                "dataarts_conn_id",
                "region",
                "project_id",
                "workspace",
                "hook_params",
            )
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _hook(self):
        from airflow_provider_dataarts.hooks.dataarts import DataArtsHook

        return DataArtsHook.from_task(
            dataarts_conn_id=self.dataarts_conn_id,
            region=self.region,
            project_id=self.project_id,
            workspace=self.workspace,
            hook_params=self.hook_params,
        )

    def _event(self, status: str, message: str, run_status: str | None = None, **extra: Any) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "message": message,
                "instance_id": self.instance_id,
                "run_status": run_status,
                "instance": None,
                "started_after": self.started_after,  # what the lookups were narrowed to, for messages
                "try_number": self.try_number,
                **extra,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_dataarts.exceptions import DataArtsApiError

        hook = self._hook()
        last_status: str | None = None
        seen = {"start_time": self.start_time} if self.start_time else None
        # Waits deferred together (mapped tasks, a triggerer restart) would otherwise poll in
        # lockstep; a random first wait within one interval spreads their polls evenly.
        first_wait = random.uniform(0, self.poll_interval)
        if self.deadline is not None:
            first_wait = min(first_wait, max(self.deadline - time.time(), 0))
        await asyncio.sleep(first_wait)
        while True:
            try:
                instance = await hook.aget_quality_instance(
                    self.instance_id, rule_type=self.rule_type, started_after=self.started_after, seen=seen
                )
            except DataArtsApiError as error:
                # The fields travel in the event so the task raises the same DataArtsApiError.
                yield self._event("error", str(error), last_status, api_error=error.to_dict())
                return
            except ValueError as error:
                yield self._event("error", str(error), last_status, input_error=True)
                return
            seen = instance or seen
            now = time.time()
            if instance is not None and instance.get("run_status") != last_status:
                self.log.info("Quality instance %s is %s", self.instance_id, instance.get("run_status"))
                last_status = instance.get("run_status")
            event = verdict(self.instance_id, instance, self.fail_on_alarm)
            if event is not None:
                yield TriggerEvent({**event, "try_number": self.try_number})
                return
            if instance is None and self.not_found_deadline is not None and now >= self.not_found_deadline:
                yield self._event("not_found", f"Quality instance {self.instance_id} is not listed by DataArts")
                return
            if self.deadline is not None and now >= self.deadline:
                message = f"Quality instance {self.instance_id} still {last_status or 'not listed'} at the deadline"
                yield self._event("timeout", message, last_status)
                return
            wait = self.poll_interval if self.deadline is None else min(self.poll_interval, self.deadline - now)
            await asyncio.sleep(max(wait, 0))

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user marked the deferred task failed or success, or cleared it."""
        if not self.cancel_on_kill:
            return
        try:
            await self._hook().acancel_quality_instance(self.instance_id)
            self.log.info("Cancelled quality instance %s", self.instance_id)
        except Exception as error:  # the task is ending anyway; say why the cancel did not happen
            self.log.warning("Could not cancel quality instance %s: %s", self.instance_id, error)
