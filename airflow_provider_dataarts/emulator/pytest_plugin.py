"""pytest fixtures for your own DAG tests: the emulator, and a DAG run through real Airflow.

Enable them in a ``conftest.py`` (a copy-ready one is ``example_test/conftest.py`` next to this
module)::

    import os, tempfile

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp()  # a throw-away metadata DB, before Airflow loads
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    pytest_plugins = ["airflow_provider_dataarts.emulator.pytest_plugin"]

and in a test::

    def test_my_dag(dataarts_emulator, dataarts_run_dag):
        from my_dags.quality_gate import dag

        result = dataarts_run_dag(dag)  # dag.test(), after the serialization Airflow 3 needs
        assert result.states == {"rerun": "success", "verdict": "success"}
        assert dataarts_emulator.service.calls["quality_rerun"] == 1

The emulator starts with the demo set (the rules, jobs and check task the example DAGs use);
add your own with ``dataarts_emulator.service.add_rule(...)`` and friends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_dataarts.emulator.server import Emulator


@pytest.fixture
def dataarts_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A fresh :class:`Emulator` with the demo set; ``AIRFLOW_CONN_DATAARTS_DEFAULT`` points at it for the test."""
    with Emulator() as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", emulator.connection_json())
        yield emulator


@dataclass
class DagRunResult:
    """What a DAG run left in the metadata DB.

    :param dag_id: the DAG's id.
    :param run_id: the run's id.
    :param state: the run's state (``success`` or ``failed``).
    :param states: each task's final state, by task id.
    :param tries: each task's number of tries, by task id.
    """

    dag_id: str
    run_id: str
    state: str
    states: dict[str, str]
    tries: dict[str, int]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value as stored (JSON), or ``None``."""
        from airflow.utils.session import create_session
        from sqlalchemy import text

        with create_session() as session:
            row = session.execute(
                text("SELECT value FROM xcom WHERE dag_id = :d AND run_id = :r AND task_id = :t AND key = :k"),
                {"d": self.dag_id, "r": self.run_id, "t": task_id, "k": key},
            ).first()
        return None if row is None or row[0] is None else json.loads(row[0])


def migrate_airflow_db() -> None:
    """Create or upgrade the metadata DB of the current ``AIRFLOW_HOME`` (``airflow db migrate``)."""
    done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def run_dag(dag: Any, **kwargs: Any) -> DagRunResult:
    """Run ``dag`` once with ``dag.test(**kwargs)`` and read back what its tasks did.

    Airflow 3.1+ runs only DAGs it has serialized to the metadata DB, so a DAG imported or built
    in a test is serialized first (as the DAG processor would); Airflow 2.11 and 3.0 run it as
    it is. The metadata DB must exist (:func:`migrate_airflow_db`, or the ``dataarts_run_dag``
    fixture).
    """
    from airflow_provider_dataarts._compat import first_of

    modules = ("airflow.dag_processing.dagbag", "airflow.models.dagbag")  # 3.2+, 3.1
    try:
        sync_bag_to_db = first_of("sync_bag_to_db", *modules)
    except ImportError:  # 2.11, 3.0
        pass
    else:
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        DagBundlesManager().sync_bundles_to_db()
        bag = first_of("DagBag", *modules)(collect_dags=False)
        bag.bag_dag(dag)
        sync_bag_to_db(bag, "dags-folder", None)
    dag_run = dag.test(**kwargs)

    from airflow.utils.session import create_session

    with create_session() as session:
        dag_run = session.merge(dag_run)
        tis = dag_run.get_task_instances(session=session)
        return DagRunResult(
            dag_run.dag_id,
            dag_run.run_id,
            str(dag_run.state),
            {ti.task_id: str(ti.state) for ti in tis},
            {ti.task_id: ti.try_number for ti in tis},
        )


@pytest.fixture(scope="session")
def dataarts_airflow_db() -> None:
    """The metadata DB of this session's ``AIRFLOW_HOME``, migrated once (a few seconds on SQLite)."""
    migrate_airflow_db()


@pytest.fixture
def dataarts_run_dag(dataarts_airflow_db: None) -> Callable[..., DagRunResult]:
    """:func:`run_dag`, with the metadata DB migrated first."""
    return run_dag
