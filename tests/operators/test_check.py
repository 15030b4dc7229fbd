"""CodeArts Check operator through real Airflow against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_dataarts.operators.check import CheckTaskStopOperator
from tests.conftest import make_dag

TASK = "2b31ed520a1c4bd6aebedb6e57a8c9d0"


def test_stop_check_task(run_dag, emulator):
    emulator.service.add_check_task(TASK)
    with make_dag("check_stop", params={"check": TASK}) as dag:
        CheckTaskStopOperator(task_id="stop", check_task_id="{{ params.check }}")
    result = run_dag(dag)
    assert result.states == {"stop": "success"}
    assert emulator.service.check_tasks[TASK] == "STOPPED"
    assert emulator.service.log[-1]["path"] == f"/v2/tasks/{TASK}/stop"
    assert TASK in result.link("stop", "CodeArtsCheckTaskLink")


def test_unknown_check_task(run_dag, emulator):
    with make_dag("check_unknown") as dag:
        CheckTaskStopOperator(task_id="stop", check_task_id="0" * 32)
    result = run_dag(dag)
    assert result.states == {"stop": "failed"}
    assert "HTTP 400 CC.00000002" in result.error("stop")


def test_check_task_id_over_32_characters_fails_before_any_request(run_dag, emulator, capfd):
    with pytest.raises(ValueError, match=r"^check_task_id must be at most 32 characters, got 33$"):
        CheckTaskStopOperator(task_id="stop", check_task_id="a" * 33)  # a literal: when the DAG is parsed
    with make_dag("check_too_long", params={"check": "a" * 33}) as dag:
        CheckTaskStopOperator(task_id="stop", check_task_id="{{ params.check }}")  # a template: when it runs
    assert run_dag(dag).states == {"stop": "failed"}
    assert "check_task_id must be at most 32 characters, got 33" in "".join(capfd.readouterr())
    assert not emulator.service.log
