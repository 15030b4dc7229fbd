"""Extra links from a task to the Huawei Cloud console page of what it touched.

The operator records the URL while it runs. Airflow 3 computes links in the worker
when the task ends (or defers), on the operator that ran, and stores them itself;
Airflow 2.11 computes them in the webserver, so there the operator also pushes the
URL to XCom (key :data:`CONSOLE_URL_KEY`) for the link to read back. A link never
calls DataArts itself.

The console's in-page routes (after ``#``) are not a documented API: the links
open the right console module, region and workspace, and carry the id of the
job, instance or task so it can be found there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_dataarts._compat import AIRFLOW_V3, BaseOperatorLink

CONSOLE_URL_KEY = "dataarts_console_url"
CONSOLE = "https://console.huaweicloud.com"


def _console(module: str, region: str | None, workspace: str | None, route: str) -> str:
    query = urlencode({k: v for k, v in (("region", region), ("workspace", workspace)) if v})
    return f"{CONSOLE}/dayu/{module}/?{query}#/{route}"


def quality_instance_url(region: str | None, workspace: str | None, instance_id: str) -> str:
    """DataArts Quality O&M page of one run instance."""
    return _console("dq", region, workspace, f"taskInstance?instanceId={quote(instance_id)}")


def quality_job_url(region: str | None, workspace: str | None, rule_id: str) -> str:
    """DataArts Quality page of one quality job."""
    return _console("dq", region, workspace, f"qualityTask?taskId={quote(rule_id)}")


def factory_job_url(region: str | None, workspace: str | None, job_name: str) -> str:
    """DataArts Factory page of one job."""
    return _console("dlf", region, workspace, f"main?jobName={quote(job_name, safe='')}")


def check_task_url(region: str | None, check_task_id: str) -> str:
    """CodeArts Check page of one check task."""
    return f"https://devcloud.{region or 'cn-north-4'}.huaweicloud.com/codecheck/task/{quote(check_task_id)}/detail"


class _ConsoleLink(BaseOperatorLink):
    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if AIRFLOW_V3:
            # Called in the worker, on the operator that just ran (or resumed): no lookup needed.
            return getattr(operator, "console_url", None) or ""
        from airflow.models.xcom import XCom

        return XCom.get_value(key=CONSOLE_URL_KEY, ti_key=ti_key) or ""


class DataArtsQualityLink(_ConsoleLink):
    """Link to the quality job or run instance in the DataArts Quality console."""

    name = "DataArts Quality"


class DataArtsFactoryJobLink(_ConsoleLink):
    """Link to the job in the DataArts Factory console."""

    name = "DataArts Factory"


class CodeArtsCheckTaskLink(_ConsoleLink):
    """Link to the check task in the CodeArts Check console."""

    name = "CodeArts Check"
