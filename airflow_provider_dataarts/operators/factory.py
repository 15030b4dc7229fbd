"""DataArts Factory operators: start and stop a job."""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_dataarts import links, validation
from airflow_provider_dataarts.links import DataArtsFactoryJobLink
from airflow_provider_dataarts.operators.base import DataArtsBaseOperator


class _FactoryJobOperator(DataArtsBaseOperator):
    template_fields = (*DataArtsBaseOperator.template_fields, "job_name")
    operator_extra_links = (DataArtsFactoryJobLink(),)
    ui_color = "#fdf1e8"

    def __init__(self, *, job_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        validation.now(validation.job_name, job_name)
        self.job_name = job_name

    def _done(self, context: Any, what: str, started: float) -> None:
        config = self.hook.transport.config
        self.push_console_url(context, links.factory_job_url(config.region, config.workspace, self.job_name))
        self.log.info("DataArts Factory job %r %s in %.0f ms", self.job_name, what, (time.monotonic() - started) * 1000)


class FactoryJobStartOperator(_FactoryJobOperator):
    """Start a DataArts Factory job (``POST /v1/{project_id}/jobs/{name}/start``).

    :param job_name: the job's name (templated); 1 to 128 characters, no ``/``.
    :param job_params: job parameters (templated, rendered as JSON): ``{name: value}``, the API's
        ``[{"name": ..., "value": ...}]``, or either as a JSON string. Names up to 64 characters,
        values (strings or numbers) up to 1024.

    The start is sent once: it is repeated only when DataArts provably did not act on it.
    """

    template_fields = (*_FactoryJobOperator.template_fields, "job_params")
    template_fields_renderers = {"job_params": "json"}

    def __init__(self, *, job_name: str, job_params: Any = None, **kwargs: Any) -> None:
        super().__init__(job_name=job_name, **kwargs)
        validation.now(validation.job_params, job_params)
        self.job_params = job_params

    def execute(self, context: Any) -> None:
        params = validation.job_params(self.job_params)
        started = time.monotonic()
        self.hook.start_factory_job(self.job_name, params)
        count = len(params)
        self._done(context, f"started with {count} parameter{'s' * (count != 1)}", started)


class FactoryJobStopOperator(_FactoryJobOperator):
    """Stop a DataArts Factory job (``POST /v1/{project_id}/jobs/{job_name}/stop``).

    :param job_name: the job's name (templated); 1 to 128 characters, no ``/``.
    """

    def execute(self, context: Any) -> None:
        started = time.monotonic()
        self.hook.stop_factory_job(self.job_name)
        self._done(context, "stopped", started)
