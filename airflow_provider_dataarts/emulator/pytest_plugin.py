"""A pytest fixture for your own DAG tests: the emulator on a free port, ``dataarts_default`` pointed at it.

Enable it in a ``conftest.py``::

    pytest_plugins = ["airflow_provider_dataarts.emulator.pytest_plugin"]

    def test_my_dag(dataarts_emulator):
        dataarts_emulator.service.add_rule("1001", outcomes=["SUCCESS"], duration=1)
        ...  # run the DAG (dag.test()); it talks to the emulator
        assert dataarts_emulator.service.calls["quality_rerun"] == 1
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_dataarts.emulator.server import Emulator


@pytest.fixture
def dataarts_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A fresh :class:`Emulator`; ``AIRFLOW_CONN_DATAARTS_DEFAULT`` points at it (AK/SK) for the test."""
    with Emulator() as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", emulator.connection_json())
        yield emulator
