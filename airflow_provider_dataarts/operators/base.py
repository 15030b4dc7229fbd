"""What every DataArts operator and sensor shares: connection arguments, the hook, the console link."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow_provider_dataarts import validation
from airflow_provider_dataarts._compat import AIRFLOW_V3, BaseOperator
from airflow_provider_dataarts.links import CONSOLE_URL_KEY


class DataArtsBaseOperator(BaseOperator):
    """Base of the DataArts operators and sensor.

    :param dataarts_conn_id: Airflow connection of type ``dataarts`` (templated).
    :param region: overrides the connection's region (templated).
    :param project_id: overrides the connection's project id (templated).
    :param workspace: overrides the connection's DataArts workspace id (templated).
    :param hook_params: more :class:`~airflow_provider_dataarts.hooks.dataarts.DataArtsHook`
        arguments, for example ``{"retry_limit": 3, "retry_delay": 2}``.

    Arguments that are not templates are checked here, when the DAG is parsed, so a mistake
    shows as an import error naming the field; templated ones are checked after rendering.
    """

    template_fields: tuple[str, ...] = ("dataarts_conn_id", "region", "project_id", "workspace")

    def __init__(
        self,
        *,
        dataarts_conn_id: str = "dataarts_default",
        region: str | None = None,
        project_id: str | None = None,
        workspace: str | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.now(validation.connection_id, dataarts_conn_id)
        validation.now(lambda value: value is None or validation.region(value), region)
        for name, value in (("project_id", project_id), ("workspace", workspace)):
            validation.now(lambda value, name=name: value is None or validation.identifier(name, value), value)
        self.dataarts_conn_id = dataarts_conn_id
        self.region = region
        self.project_id = project_id
        self.workspace = workspace
        self.hook_params = validation.hook_params(hook_params)

    @cached_property
    def hook(self):
        """The :class:`DataArtsHook` for this task's connection and overrides."""
        from airflow_provider_dataarts.hooks.dataarts import DataArtsHook

        return DataArtsHook.from_task(**self.connection_kwargs)

    @property
    def connection_kwargs(self) -> dict[str, Any]:
        """JSON-safe arguments that rebuild this task's hook elsewhere (in a trigger)."""
        return {
            "dataarts_conn_id": self.dataarts_conn_id,
            "region": self.region,
            "project_id": self.project_id,
            "workspace": self.workspace,
            "hook_params": self.hook_params,
        }

    def resumed_with_a_stale_event(self, context: Any, event: dict[str, Any]) -> bool:
        """Whether Airflow resumed this try with the event of an earlier, deferred try.

        Airflow 3.0 keeps a deferred try's resume method for the retries after it
        (apache/airflow#62845): a retry would then only replay the old outcome. Such a try must
        start from the top instead; the trigger stamps its events with the try that deferred.
        """
        deferred_by = event.get("try_number")
        if deferred_by is None or deferred_by == context["ti"].try_number:
            return False
        self.log.warning(
            "Airflow resumed try %s with the event of try %s (apache/airflow#62845): starting this try afresh",
            context["ti"].try_number,
            deferred_by,
        )
        return True

    console_url: str | None = None

    def push_console_url(self, context: Any, url: str) -> None:
        """Record the console URL the task's extra link opens (see :mod:`airflow_provider_dataarts.links`)."""
        self.console_url = url
        if not AIRFLOW_V3:
            context["ti"].xcom_push(key=CONSOLE_URL_KEY, value=url)
