"""Test set-up: a throw-away AIRFLOW_HOME (set before anything imports Airflow), the emulator
fixture, and a helper that runs a DAG through real Airflow with ``dag.test()``."""

from __future__ import annotations

import os
import tempfile
from importlib.metadata import version
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="dataarts-airflow-home-"))
(_HOME / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.pop("AIRFLOW_CONN_DATAARTS_DEFAULT", None)
if version("apache-airflow").startswith("2."):
    # Airflow 2.11 in unit-test mode: no LocalExecutor on SQLite, one Fernet key for every
    # process (or connections written by one cannot be read by another), no timer warning.
    os.environ["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"
    os.environ["AIRFLOW__CORE__FERNET_KEY"] = "ZGF0YWFydHMtdGVzdHMtZml4ZWQtZmVybmV0LWtleSE="
    os.environ["AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY"] = "True"

import pluggy  # noqa: E402
import pytest  # noqa: E402

pytest_plugins = ["airflow_provider_dataarts.emulator.pytest_plugin"]  # the fixtures users get too
pytest.register_assert_rewrite(pytest_plugins[0])  # imported below, before pytest loads it as a plugin


@pytest.fixture
def emulator(dataarts_emulator, monkeypatch):
    """The users' ``dataarts_emulator`` fixture, with short timeouts for faster failure tests."""
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", dataarts_emulator.connection_json(timeout=[2, 5]))
    return dataarts_emulator


# -- running DAGs through real Airflow ------------------------------------------------------

from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from airflow_provider_dataarts._compat import AIRFLOW_V3, first_of  # noqa: E402
from airflow_provider_dataarts.emulator.pytest_plugin import DagRunResult  # noqa: E402

if AIRFLOW_V3:
    from airflow.sdk import DAG
else:
    from airflow.models.dag import DAG

START = datetime(2026, 1, 1, tzinfo=UTC)

#: What Airflow's secrets masker makes of a text, wherever this Airflow keeps it.
redact = first_of(
    "redact",
    "airflow.sdk.log",
    "airflow.sdk._shared.secrets_masker",
    "airflow.sdk.execution_time.secrets_masker",  # 3.0
    "airflow.utils.log.secrets_masker",  # 2.11
)


FAILURES: dict[tuple[str, str], BaseException | str] = {}


class _FailureRecorder:
    """An Airflow listener keeping each task's last error (3.1's ``dag.test()`` gives failure
    callbacks no ``exception``; every version tells listeners)."""

    @pluggy.HookimplMarker("airflow")
    def on_task_instance_failed(self, task_instance: Any, error: BaseException | str | None) -> None:
        if error is not None:
            FAILURES[(task_instance.dag_id, task_instance.task_id)] = error


first_of("get_listener_manager", "airflow.sdk.listener", "airflow.listeners.listener")().add_listener(
    _FailureRecorder()
)


def make_dag(dag_id: str, **kwargs: Any) -> DAG:
    """A manually triggered DAG for one test; every task's failure exception is recorded."""
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False, **kwargs)


class DagResult(DagRunResult):
    """What ``dag.test()`` left in the metadata DB (the plugin's result), and more for these tests."""

    def _ti(self, session: Any, task_id: str) -> Any:
        from airflow.models.taskinstance import TaskInstance

        return session.query(TaskInstance).filter_by(dag_id=self.dag_id, run_id=self.run_id, task_id=task_id).one()

    def error(self, task_id: str) -> str:
        """``ExceptionType: message`` of the exception that failed the task's last try."""
        error = FAILURES.get((self.dag_id, task_id))
        return f"{type(error).__name__}: {error}" if error is not None else ""

    def all_xcoms(self, task_id: str) -> dict[str, Any]:
        """Every XCom the task left, by key, as stored."""
        import json

        from airflow.utils.session import create_session
        from sqlalchemy import text

        with create_session() as session:
            rows = session.execute(
                text("SELECT key, value FROM xcom WHERE dag_id = :d AND run_id = :r AND task_id = :t"),
                {"d": self.dag_id, "r": self.run_id, "t": task_id},
            ).all()
        return {key: json.loads(value) if value is not None else None for key, value in rows}

    def link(self, task_id: str, link_class: str) -> str | None:
        """The URL of a task's extra link, where each Airflow version keeps it."""
        if AIRFLOW_V3:
            return self.xcom(task_id, f"_link_{link_class}")
        return self.xcom(task_id, "dataarts_console_url")

    def rendered(self, task_id: str) -> dict[str, Any]:
        from airflow.models.renderedtifields import RenderedTaskInstanceFields
        from airflow.utils.session import create_session

        with create_session() as session:
            return RenderedTaskInstanceFields.get_templated_fields(self._ti(session, task_id), session=session) or {}


@pytest.fixture
def run_dag(dataarts_run_dag):
    """Run a DAG built in a test with ``dag.test()`` and return its :class:`DagResult`."""

    def run(dag: DAG, **kwargs: Any) -> DagResult:
        return DagResult(**vars(dataarts_run_dag(dag, **kwargs)))

    return run
