"""QualityInstanceSensor through real Airflow: poke, reschedule and deferrable modes."""

from __future__ import annotations

import pytest

from airflow_provider_dataarts.operators.quality import RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor
from tests.conftest import make_dag

RULE = "1200372516590559232"
FAST = {"retry_limit": 2, "retry_delay": 0.01, "retry_max_delay": 0.05}
MODES = [
    pytest.param({"mode": "poke"}, id="poke"),
    pytest.param({"mode": "reschedule"}, id="reschedule"),
    pytest.param({"deferrable": True}, id="deferrable"),
]


@pytest.fixture
def service(emulator):
    emulator.service.add_rule(RULE, "orders_not_null", outcomes=["SUCCESS"], duration=0.5)
    return emulator.service


def rerun_then_wait(dag_id, **sensor_kwargs):
    sensor_kwargs.setdefault("poke_interval", 0.2)
    sensor_kwargs.setdefault("timeout", 30)
    with make_dag(dag_id) as dag:
        rerun = RerunQualityOperator(task_id="rerun", rule_id=RULE, hook_params=FAST)
        wait = QualityInstanceSensor(
            task_id="wait",
            instance_id="{{ ti.xcom_pull(task_ids='rerun') }}",
            rule_type=1,
            hook_params=FAST,
            **sensor_kwargs,
        )
        rerun >> wait
    return dag


@pytest.mark.parametrize("mode", MODES)
def test_success_pushes_the_summary_and_the_results(run_dag, service, mode):
    result = run_dag(rerun_then_wait(f"sensor_success_{next(iter(mode.values()))}", **mode))
    assert result.states == {"rerun": "success", "wait": "success"}
    instance = result.xcom("wait", "instance")
    assert instance["run_status"] == "SUCCESS" and instance["id"] == result.xcom("rerun")
    assert result.xcom("wait", "results")["count"] == 2
    assert result.xcom("rerun") in result.link("wait", "DataArtsQualityLink")
    assert service.calls["quality_rerun"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_failed_run_fails_the_sensor(run_dag, service, mode, capfd):
    service.rules[RULE].outcomes = ["FAILED"]
    result = run_dag(rerun_then_wait(f"sensor_failed_{next(iter(mode.values()))}", **mode))
    assert result.states == {"rerun": "success", "wait": "failed"}
    assert "FAILED" in "".join(capfd.readouterr())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("fail_on_alarm", "state"), [(True, "failed"), (False, "success")])
def test_alarming_both_ways(run_dag, service, mode, fail_on_alarm, state):
    service.rules[RULE].outcomes = ["ALARMING"]
    dag_id = f"sensor_alarm_{next(iter(mode.values()))}_{fail_on_alarm}"
    result = run_dag(rerun_then_wait(dag_id, fail_on_alarm=fail_on_alarm, **mode))
    assert result.states["wait"] == state
    assert result.xcom("wait", "instance")["run_status"] == "ALARMING"


@pytest.mark.parametrize("mode", MODES)
def test_sensor_timeout(run_dag, service, mode, capfd):
    service.rules[RULE].duration = 60
    result = run_dag(rerun_then_wait(f"sensor_timeout_{next(iter(mode.values()))}", timeout=1, **mode))
    assert result.states["wait"] == "failed"
    assert "AirflowSensorTimeout" in "".join(capfd.readouterr())


@pytest.mark.parametrize("mode", MODES)
def test_unknown_instance_fails_after_the_grace_period(run_dag, service, mode, capfd):
    with make_dag(f"sensor_not_found_{next(iter(mode.values()))}") as dag:
        QualityInstanceSensor(
            task_id="wait",
            instance_id="7531102693176115201",
            not_found_grace=0.5,
            poke_interval=0.2,
            timeout=30,
            hook_params=FAST,
            **mode,
        )
    result = run_dag(dag)
    assert result.states == {"wait": "failed"}
    assert "7531102693176115201 is not listed" in "".join(capfd.readouterr())
