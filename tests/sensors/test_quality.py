"""QualityInstanceSensor through real Airflow: poke, reschedule and deferrable modes."""

from __future__ import annotations

import re

import pytest

from airflow_provider_dataarts._compat import AIRFLOW_VERSION_INFO
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
def test_sensor_timeout(run_dag, service, mode):
    if AIRFLOW_VERSION_INFO == (3, 0) and mode.get("mode") == "reschedule":
        # A second reschedule poke under dag.test() fails in Airflow's own sensor code on 3.0
        # (get_first_reschedule_date gives a str, apache/airflow#58777; fixed in 3.1).
        pytest.skip("Airflow 3.0's dag.test() cannot reschedule a sensor twice (apache/airflow#58777)")
    service.rules[RULE].duration = 60
    result = run_dag(rerun_then_wait(f"sensor_timeout_{next(iter(mode.values()))}", timeout=1, **mode))
    assert result.states["wait"] == "failed"
    assert result.error("wait").startswith("AirflowSensorTimeout")


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


WINDOW = r"started between \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC and \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{{ ti.xcom_pull(task_ids='nothing') }}",
            "instance_id must be an id, got 'None' (a template that finds nothing "
            "(an xcom_pull of a task that pushed no value?) renders None)",
        ),
        ("{{ params.empty }}", "instance_id must not be empty"),
    ],
    ids=["xcom-none", "empty"],
)
def test_an_id_that_cannot_exist_fails_at_once(run_dag, service, mode, template, message):
    """No grace period and no retry for an id a failed xcom_pull rendered."""
    dag_id = f"sensor_no_id_{next(iter(mode.values()))}_{'xcom' if 'xcom' in template else 'empty'}"
    with make_dag(dag_id, params={"empty": ""}, default_args={"retries": 2}) as dag:
        QualityInstanceSensor(task_id="wait", instance_id=template, poke_interval=0.2, timeout=60, **mode)
    result = run_dag(dag)
    assert (result.states, result.tries) == ({"wait": "failed"}, {"wait": 1})
    assert result.error("wait") == f"DataArtsInputError: {message}"
    assert not service.log


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_rule_type_is_named_when_the_run_is_not_listed(run_dag, service, mode):
    service.add_rule("2001", "orders_vs_dwh", rule_type=2, duration=60)
    with make_dag(f"sensor_wrong_type_{next(iter(mode.values()))}", default_args={"retries": 2}) as dag:
        rerun = RerunQualityOperator(task_id="rerun", rule_id="2001", rule_type=2)
        wait = QualityInstanceSensor(
            task_id="wait",
            instance_id="{{ ti.xcom_pull(task_ids='rerun') }}",
            rule_type=1,  # the mistake: the job is a comparison job
            not_found_grace=0,
            poke_interval=0.2,
            timeout=30,
            **mode,
        )
        rerun >> wait
    result = run_dag(dag)
    assert (result.states["wait"], result.tries["wait"]) == ("failed", 1)
    assert re.fullmatch(
        rf"DataArtsInputError: Quality instance {result.xcom('rerun')} is not listed among quality job runs "
        rf"\(rule_type 1\) {WINDOW}, 0 s after started_after; it is listed among comparison job runs "
        r"\(rule_type 2\): set rule_type=2",
        result.error("wait"),
    ), result.error("wait")


def test_an_instance_listed_under_neither_type_says_which_filters_were_used(run_dag, service):
    with make_dag("sensor_not_listed_message") as dag:
        QualityInstanceSensor(
            task_id="wait", instance_id="7531102693176115201", rule_type=1, not_found_grace=0, timeout=30
        )
    result = run_dag(dag)
    assert result.states == {"wait": "failed"}
    assert re.fullmatch(
        rf"DataArtsWaitError: Quality instance 7531102693176115201 is not listed among quality job runs "
        rf"\(rule_type 1\) {WINDOW}, 0 s after started_after, nor among comparison job runs \(rule_type 2\): "
        r"check instance_id, and started_after if the run started earlier",
        result.error("wait"),
    ), result.error("wait")
