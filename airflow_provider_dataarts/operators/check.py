"""CodeArts Check operator: stop a check task."""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_dataarts import links, validation
from airflow_provider_dataarts.links import CodeArtsCheckTaskLink
from airflow_provider_dataarts.operators.base import DataArtsBaseOperator


class CheckTaskStopOperator(DataArtsBaseOperator):
    """Stop a running CodeArts Check task (``POST /v2/tasks/{task_id}/stop``).

    :param check_task_id: the check task's id, 1 to 32 characters (templated). Named so
        because ``task_id`` is the Airflow task's own id.
    """

    template_fields = (*DataArtsBaseOperator.template_fields, "check_task_id")
    operator_extra_links = (CodeArtsCheckTaskLink(),)
    ui_color = "#eef7ee"

    def __init__(self, *, check_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        validation.now(
            lambda value: validation.identifier("check_task_id", value, validation.CHECK_TASK_ID_MAX_LENGTH),
            check_task_id,
        )
        self.check_task_id = check_task_id

    def execute(self, context: Any) -> None:
        started = time.monotonic()
        self.hook.stop_check_task(self.check_task_id)
        self.push_console_url(context, links.check_task_url(self.hook.transport.config.region, self.check_task_id))
        self.log.info(
            "CodeArts Check task %s stopped in %.0f ms", self.check_task_id, (time.monotonic() - started) * 1000
        )
