"""DataArtsHook: one short method per DataArts Studio / CodeArts Check API call.

Authentication, endpoints, timeouts, retries and error mapping live in
:mod:`airflow_provider_dataarts.transport`; this module only says which call
to make and what to return.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Generator
from datetime import datetime
from typing import Any

from airflow_provider_dataarts import validation
from airflow_provider_dataarts._compat import BaseHook, first_of, mask_secret
from airflow_provider_dataarts.exceptions import DataArtsApiError, DataArtsInputError
from airflow_provider_dataarts.transport import Call, ConnectionConfig, RetryPolicy, Transport

__all__ = ["DataArtsApiError", "DataArtsHook", "QualityRunStatus"]

# Huawei's page "Data quality O&M management operation processing and recording"
# (PUT /v2/{project_id}/quality/instances/{instance_id}) says cancel_run=false means
# "cancel" and true means "do not cancel". We follow the page, surprising as it reads.
CANCEL_RUN = False

# Instances are looked up by start time; allow this much clock skew between Airflow and Huawei.
LOOKUP_SKEW_MS = 5 * 60 * 1000
PAGE_LIMIT = 100  # the list call's maximum


class QualityRunStatus:
    """``run_status`` values of a quality instance, and which of them are final."""

    RUNNING = "RUNNING"
    SUSPENDING = "SUSPENDING"
    UNKNOWN = "UNKNOWN"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    ALARMING = "ALARMING"  # finished, and a rule raised an alarm on the data

    TERMINAL = frozenset({SUCCESS, FAILED, ALARMING})

    @classmethod
    def is_terminal(cls, status: str | None) -> bool:
        return status in cls.TERMINAL


@functools.cache
def _masks_asynchronously() -> bool:
    """Airflow 3.3.2+: ``aget_connection`` reads the connection and masks its secrets without blocking."""
    connection = first_of("Connection", "airflow.sdk", "airflow.models.connection")
    return hasattr(BaseHook, "aget_connection") and hasattr(connection, "aextra_dejson")


def _epoch_ms(value: datetime | int | float | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return int(value.timestamp() * 1000)


class DataArtsHook(BaseHook):
    """Talks to Huawei Cloud DataArts Studio (Quality, Factory) and CodeArts Check.

    :param dataarts_conn_id: Airflow connection of type ``dataarts``.
    :param region: overrides the connection's ``region`` extra.
    :param project_id: overrides the connection's ``project_id`` extra.
    :param workspace: overrides the connection's ``workspace`` extra (DataArts workspace id).
    :param retry_limit: tries per call, the first included (default 5).
    :param retry_delay: base of the exponential backoff between tries, seconds (default 1).
    :param retry_max_delay: cap of one wait between tries, seconds (default 30).
    """

    conn_name_attr = "dataarts_conn_id"
    default_conn_name = "dataarts_default"
    conn_type = "dataarts"
    hook_name = "Huawei Cloud DataArts Studio"

    def __init__(
        self,
        dataarts_conn_id: str = default_conn_name,
        region: str | None = None,
        project_id: str | None = None,
        workspace: str | None = None,
        *,
        retry_limit: int = RetryPolicy.attempts,
        retry_delay: float = RetryPolicy.delay,
        retry_max_delay: float = RetryPolicy.max_delay,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.retry_settings(retry_limit, retry_delay, retry_max_delay)
        self.dataarts_conn_id = dataarts_conn_id
        self.region = region
        self.project_id = project_id
        self.workspace = workspace
        self.retry = RetryPolicy(retry_limit, retry_delay, retry_max_delay)
        self._transport: Transport | None = None

    @classmethod
    def from_task(
        cls,
        *,
        dataarts_conn_id: str = default_conn_name,
        region: str | None = None,
        project_id: str | None = None,
        workspace: str | None = None,
        hook_params: dict[str, Any] | None = None,
    ) -> DataArtsHook:
        """The hook an operator, sensor or trigger builds from its (JSON-safe) connection arguments."""
        return cls(dataarts_conn_id, region=region, project_id=project_id, workspace=workspace, **(hook_params or {}))

    # -- connection ------------------------------------------------------------------

    def _config(self, conn: Any) -> ConnectionConfig:
        config = ConnectionConfig.from_connection(
            conn, region=self.region, project_id=self.project_id, workspace=self.workspace
        )
        for secret in config.secrets():
            mask_secret(secret)
        return config

    @property
    def transport(self) -> Transport:
        """The transport for this hook's connection, built on first use."""
        if self._transport is None:
            self._transport = Transport(self._config(self.get_connection(self.dataarts_conn_id)), self.retry)
        return self._transport

    async def _atransport(self) -> Transport:
        if self._transport is None:
            if _masks_asynchronously():
                config = self._config(await self.aget_connection(self.dataarts_conn_id))
            else:
                # Before Airflow 3.3.2 reading a connection (and masking its secrets) is a blocking
                # call to the supervisor, which fails when another coroutine of the loop is in one:
                # a worker thread may block safely. (Airflow's common-compat provider does the same.)
                from asgiref.sync import sync_to_async

                config = await sync_to_async(lambda: self._config(self.get_connection(self.dataarts_conn_id)))()
            self._transport = Transport(config, self.retry)
        return self._transport

    def get_conn(self) -> Any:
        """Return the ``requests.Session`` every sync call of this hook reuses.

        Its ``trust_env`` is off: the hook reads proxies and the CA bundle from the environment
        once per endpoint and passes them with each call; do the same for requests of your own.
        """
        return self.transport.session

    def _project(self, transport: Transport) -> str:
        if not transport.config.project_id:
            raise DataArtsInputError("project_id is required: set extra.project_id or the project_id argument")
        return transport.config.project_id

    # -- DataArts Quality ------------------------------------------------------------

    def quality_job_action(self, rule_id: str | int, action: str) -> str:
        """Start or stop the scheduling of a quality job (seed 000).

        :param rule_id: quality job id; sent as a string.
        :param action: ``start`` or ``stop``.
        :return: the API's ``message``.
        """
        body = {"action": validation.action(action), "rule_id": validation.identifier("rule_id", rule_id)}
        path = "/v2/{}/quality/quality-tasks/action"
        data = self.transport.request(Call.build("quality", "POST", path, self._project(self.transport), body=body))
        return (data or {}).get("message", "")

    def rerun_quality_job(self, rule_id: str | int, rule_type: int = 1) -> str:
        """Rerun a quality job (``rule_type`` 1) or a comparison job (2) (seed 001).

        Never sent twice unless the server provably did not act on it.

        :return: the new instance's id, as a string.
        """
        body = {"rule_type": validation.rule_type(rule_type), "rule_id": validation.identifier("rule_id", rule_id)}
        path = "/v2/{}/quality/instances/restart"
        call = Call.build("quality", "POST", path, self._project(self.transport), body=body, idempotent=False)
        data = self.transport.request(call) or {}
        instance_id = data.get("instance_id")
        if instance_id in (None, ""):
            raise DataArtsApiError(
                service="quality",
                method="POST",
                path=call.path,
                status=200,
                error_msg=f"the rerun answer has no instance_id: {data!r:.200}",
            )
        return str(instance_id)

    def _list_call(self, transport: Transport, **query: Any) -> Call:
        pairs = tuple((name, value) for name, value in query.items() if value is not None)
        return Call.build("quality", "GET", "/v2/{}/quality/instances", self._project(transport), query=pairs)

    def list_quality_instances(
        self,
        *,
        name: str | None = None,
        task_type: str | None = None,
        run_status: str | None = None,
        start_time: datetime | int | None = None,
        end_time: datetime | int | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> dict[str, Any]:
        """One page of quality run results (``GET /v2/{project_id}/quality/instances``).

        :param start_time: only runs that started at or after this (datetime or epoch ms).
        :param end_time: only runs that started at or before this (datetime or epoch ms).
        :param limit: page size, at most 100.
        :return: ``{"count": total, "resources": [...]}``; ids come back as JSON numbers.
        """
        if not 1 <= limit <= PAGE_LIMIT:
            raise DataArtsInputError(f"limit must be between 1 and {PAGE_LIMIT}, got {limit!r}")
        call = self._list_call(
            self.transport,
            name=name,
            task_type=task_type,
            run_status=run_status,
            start_time=_epoch_ms(start_time),
            end_time=_epoch_ms(end_time),
            limit=limit,
            offset=offset,
        )
        return self.transport.request(call) or {}

    def _lookup(
        self, transport: Transport, instance_id: Any, rule_type: int | None, started_after: Any, seen: Any = None
    ) -> Generator[Call, Any, dict[str, Any] | None]:
        instance_id = validation.identifier("instance_id", instance_id)
        task_type = validation.TASK_TYPES[validation.rule_type(rule_type)] if rule_type is not None else None
        windows: list[dict[str, Any]] = []
        if seen and seen.get("start_time"):  # pinned to its start: one row, however many runs began near it
            windows.append({"start_time": seen["start_time"], "end_time": seen["start_time"]})
        started_ms = _epoch_ms(started_after)
        if started_ms is None:
            windows.append({})
        else:
            windows.append(
                {"start_time": started_ms - LOOKUP_SKEW_MS, "end_time": int(time.time() * 1000) + LOOKUP_SKEW_MS}
            )
        for window in windows:
            offset = 0
            while True:
                call = self._list_call(transport, task_type=task_type, limit=PAGE_LIMIT, offset=offset, **window)
                page = (yield call) or {}
                resources = page.get("resources") or []
                for item in resources:
                    # Ids are 19-digit JSON numbers: compare as strings, never through float.
                    if str(item.get("id")) == instance_id:
                        return item
                offset += len(resources)
                if not resources or offset >= int(page.get("count") or 0):
                    break
        return None

    def get_quality_instance(
        self,
        instance_id: str | int,
        *,
        rule_type: int | None = None,
        started_after: datetime | int | None = None,
        seen: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Find one quality instance in the run-result list.

        There is no get-by-id call. With ``started_after`` (and ``rule_type``) the query is
        narrowed to runs of that type started in that window, so a lookup costs one request
        while fewer than 100 runs started in it, and one more per further 100. Without
        ``started_after`` every page of the project's runs may be read.

        :param instance_id: the id ``rerun_quality_job`` returned.
        :param rule_type: 1 (quality job) or 2 (comparison job), narrows the query.
        :param started_after: when the run was started (datetime or epoch ms); five minutes of
            clock skew are allowed for.
        :param seen: the instance as an earlier lookup returned it. Its ``start_time`` pins the
            query, so polling costs one request and one row even when many runs started together.
        :return: the instance (``id``, ``name``, ``task_id``, ``task_type``, ``run_status``,
            ``notify_status``, ``start_time``, ``end_time``), or ``None`` if it is not listed.
        """
        lookup = self._lookup(self.transport, instance_id, rule_type, started_after, seen)
        try:
            call = next(lookup)
            while True:
                call = lookup.send(self.transport.request(call))
        except StopIteration as done:
            return done.value

    def get_quality_instance_result(self, instance_id: str | int) -> dict[str, Any]:
        """Sub-rule results of a finished instance: ``{"count", "resources": [{"sub_rule_id", ...}]}``."""
        return self.transport.request(self._result_call(self.transport, instance_id)) or {}

    def _result_call(self, transport: Transport, instance_id: Any) -> Call:
        path = "/v2/{}/quality/instances/{}/result"
        return Call.build(
            "quality", "GET", path, self._project(transport), validation.identifier("instance_id", instance_id)
        )

    def _cancel_call(self, transport: Transport, instance_id: Any) -> Call:
        path = "/v2/{}/quality/instances/{}"
        instance_id = validation.identifier("instance_id", instance_id)
        return Call.build(
            "quality", "PUT", path, self._project(transport), instance_id, body={"cancel_run": CANCEL_RUN}
        )

    def cancel_quality_instance(self, instance_id: str | int) -> None:
        """Cancel a running quality instance (used by ``on_kill``)."""
        self.transport.request(self._cancel_call(self.transport, instance_id))

    # -- DataArts Factory ------------------------------------------------------------

    def start_factory_job(self, job_name: str, job_params: Any = None) -> None:
        """Start a DataArts Factory job (seed 002); 204 is success.

        :param job_params: ``{name: value}`` or the API's ``[{"name": ..., "value": ...}]``
            (names up to 64 characters, values up to 1024).
        """
        params = validation.job_params(job_params)
        path = "/v1/{}/jobs/{}/start"
        call = Call.build(
            "factory",
            "POST",
            path,
            self._project(self.transport),
            validation.job_name(job_name),
            body={"jobParams": params} if params else None,
            idempotent=False,
        )
        self.transport.request(call)

    def stop_factory_job(self, job_name: str) -> None:
        """Stop a DataArts Factory job (seed 003); 204 is success."""
        path = "/v1/{}/jobs/{}/stop"
        self.transport.request(
            Call.build("factory", "POST", path, self._project(self.transport), validation.job_name(job_name))
        )

    # -- CodeArts Check --------------------------------------------------------------

    def stop_check_task(self, check_task_id: str) -> None:
        """Stop a CodeArts Check task (seed 004).

        :param check_task_id: the check task id, 1 to 32 characters.
        """
        task_id = validation.identifier("check_task_id", check_task_id, validation.CHECK_TASK_ID_MAX_LENGTH)
        self.transport.request(Call.build("check", "POST", "/v2/tasks/{}/stop", task_id))

    # -- async twins, for triggers ---------------------------------------------------

    async def aget_quality_instance(
        self,
        instance_id: str | int,
        *,
        rule_type: int | None = None,
        started_after: datetime | int | None = None,
        seen: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Async twin of :meth:`get_quality_instance`."""
        transport = await self._atransport()
        lookup = self._lookup(transport, instance_id, rule_type, started_after, seen)
        try:
            call = next(lookup)
            while True:
                call = lookup.send(await transport.arequest(call))
        except StopIteration as done:
            return done.value

    async def aget_quality_instance_result(self, instance_id: str | int) -> dict[str, Any]:
        """Async twin of :meth:`get_quality_instance_result`."""
        transport = await self._atransport()
        return await transport.arequest(self._result_call(transport, instance_id)) or {}

    async def acancel_quality_instance(self, instance_id: str | int) -> None:
        """Async twin of :meth:`cancel_quality_instance`."""
        transport = await self._atransport()
        await transport.arequest(self._cancel_call(transport, instance_id))

    # -- Airflow UI ------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Prove credentials, project and workspace with one read-only Quality list call."""
        try:
            page = self.list_quality_instances(limit=1)
        except (DataArtsApiError, ValueError) as error:
            return False, str(error)
        endpoint = self.transport.config.endpoint("quality")
        return True, (
            f"Connected to DataArts Quality at {endpoint} (project {self.transport.config.project_id}, "
            f"workspace {self.transport.config.workspace}); {page.get('count', 0)} run results visible"
        )

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the connection form on Airflow 2.11 (3.2+ reads the provider info)."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        from airflow_provider_dataarts import CONNECTION_FIELDS

        return {
            name: (PasswordField if spec["schema"].get("format") == "password" else StringField)(
                lazy_gettext(spec["label"]),
                widget=BS3PasswordFieldWidget() if spec["schema"].get("format") == "password" else BS3TextFieldWidget(),
                description=spec.get("description", ""),
            )
            for name, spec in CONNECTION_FIELDS.items()
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden and relabelled standard fields on Airflow 2.11 (3.2+ reads the provider info)."""
        from airflow_provider_dataarts import UI_FIELD_BEHAVIOUR

        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }
