"""Quality operators through real Airflow (dag.test) against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from tests.conftest import make_dag

RULE = "1200372516590559232"
COMPARISON = "1440764172232392705"
FAST = {"retry_limit": 2, "retry_delay": 0.01, "retry_max_delay": 0.05}


@pytest.fixture
def rules(emulator):
    emulator.service.add_rule(RULE, "orders_not_null", outcomes=["SUCCESS"], duration=0.3)
    emulator.service.add_rule(COMPARISON, "orders_vs_dw", rule_type=2, outcomes=["SUCCESS"], duration=0.3)
    return emulator.service


def rerun(**kwargs):
    kwargs.setdefault("task_id", "rerun")
    kwargs.setdefault("rule_id", RULE)
    kwargs.setdefault("poll_interval", 0.1)
    kwargs.setdefault("hook_params", FAST)
    return RerunQualityOperator(**kwargs)


def test_start_and_stop_scheduling(run_dag, rules):
    with make_dag("quality_action", params={"rule": RULE}) as dag:
        start = QualityJobActionOperator(task_id="start", rule_id="{{ params.rule }}", action="start")
        stop = QualityJobActionOperator(task_id="stop", rule_id="{{ params.rule }}", action="stop")
        start >> stop
    result = run_dag(dag)
    assert result.states == {"start": "success", "stop": "success"}
    assert result.xcom("start") == f"Scheduling of quality job {RULE} started."
    assert rules.rules[RULE].scheduling == "stopped"
    assert rules.calls["quality_action"] == 2
    assert "dayu/dq/" in result.link("start", "DataArtsQualityLink")


def test_unknown_quality_job_fails_with_the_api_error(run_dag, rules, capfd):
    with make_dag("quality_action_unknown") as dag:
        QualityJobActionOperator(task_id="start", rule_id="999", action="start")
    assert run_dag(dag).states == {"start": "failed"}
    assert "HTTP 400 DQC.1005" in capfd.readouterr().out


def test_rerun_without_waiting_returns_the_instance_id(run_dag, rules):
    with make_dag("rerun_no_wait", params={"rule": RULE}) as dag:
        rerun(rule_id="{{ params.rule }}")
    result = run_dag(dag)
    assert result.states == {"rerun": "success"}
    instance_id = result.xcom("rerun")
    assert isinstance(instance_id, str) and int(instance_id) in rules.instances
    assert rules.calls["quality_rerun"] == 1
    assert instance_id in result.link("rerun", "DataArtsQualityLink")


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_rerun_and_wait_for_success(run_dag, rules, deferrable):
    with make_dag(f"rerun_wait_{deferrable}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable)
    result = run_dag(dag)
    assert result.states == {"rerun": "success"}
    instance_id = result.xcom("rerun")
    assert result.xcom("rerun", "instance")["run_status"] == "SUCCESS"
    assert result.xcom("rerun", "instance")["id"] == instance_id
    assert result.xcom("rerun", "results")["count"] == 2
    assert rules.calls["quality_rerun"] == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_comparison_job(run_dag, rules, deferrable):
    with make_dag(f"rerun_comparison_{deferrable}") as dag:
        rerun(rule_id=COMPARISON, rule_type=2, wait_for_completion=True, deferrable=deferrable)
    assert run_dag(dag).states == {"rerun": "success"}


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_failed_run_fails_the_task(run_dag, rules, deferrable, capfd):
    rules.rules[RULE].outcomes = ["FAILED"]
    with make_dag(f"rerun_failed_{deferrable}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable)
    result = run_dag(dag)
    assert result.states == {"rerun": "failed"}
    assert "FAILED" in capfd.readouterr().out
    assert result.xcom("rerun", "instance")["run_status"] == "FAILED"


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
@pytest.mark.parametrize(("fail_on_alarm", "state"), [(True, "failed"), (False, "success")])
def test_alarming_both_ways(run_dag, rules, deferrable, fail_on_alarm, state):
    rules.rules[RULE].outcomes = ["ALARMING"]
    with make_dag(f"rerun_alarm_{deferrable}_{fail_on_alarm}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable, fail_on_alarm=fail_on_alarm)
    result = run_dag(dag)
    assert result.states == {"rerun": state}
    assert result.xcom("rerun", "instance")["run_status"] == "ALARMING"


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_timeout_cancels_the_run_and_fails(run_dag, rules, deferrable, capfd):
    rules.rules[RULE].duration = 60
    with make_dag(f"rerun_timeout_{deferrable}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable, timeout=0.5)
    result = run_dag(dag)
    assert result.states == {"rerun": "failed"}
    (instance,) = rules.instances.values()
    assert instance.cancelled_ms is not None
    assert "the run was cancelled" in capfd.readouterr().out


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_retry_reattaches_instead_of_rerunning(run_dag, rules, deferrable):
    rules.rules[RULE].duration = 1.0
    # The first try's wait breaks (500 on the lookups, not retried; the first one, right after
    # the rerun, is only a hint): the task fails after the rerun was accepted. The retry must
    # find that run and wait for it, not start another.
    rules.add_fault(path="/quality/instances$", status=500, times=2)
    with make_dag(f"rerun_reattach_{deferrable}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable, retries=1, retry_delay=timedelta(0))
    result = run_dag(dag)
    assert result.states == {"rerun": "success"}
    assert result.tries == {"rerun": 2}
    assert rules.calls["quality_rerun"] == 1
    assert result.xcom("rerun") == str(next(iter(rules.instances)))


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_a_failed_verdict_fails_without_retrying(run_dag, rules, deferrable):
    """Retries are for outages and crashes; rerunning a job that judged the data would alarm twice."""
    rules.rules[RULE].outcomes = ["FAILED", "SUCCESS"]
    with make_dag(f"rerun_verdict_no_retry_{deferrable}") as dag:
        rerun(wait_for_completion=True, deferrable=deferrable, retries=2, retry_delay=timedelta(0))
    result = run_dag(dag)
    assert result.states == {"rerun": "failed"} and result.tries == {"rerun": 1}
    assert result.error("rerun").startswith("DataArtsQualityFailure: ")
    assert rules.calls["quality_rerun"] == 1


def test_bad_rule_type_fails_before_any_request(run_dag, rules):
    with make_dag("rerun_bad_rule_type") as dag:
        rerun(rule_type="{{ params.kind }}", params={"kind": "3"})
    result = run_dag(dag)
    assert result.states == {"rerun": "failed"}
    assert "rule_type must be 1 (quality job) or 2 (comparison job), got '3'" in result.error("rerun")
    assert not rules.log


def test_on_kill_cancels_the_run(rules, emulator):
    rules.rules[RULE].duration = 60
    op = rerun(wait_for_completion=True)
    op.instance_id = op.hook.rerun_quality_job(RULE)
    op.on_kill()
    assert rules.instances[int(op.instance_id)].cancelled_ms is not None


def test_operator_arguments_are_checked_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match="poll_interval must be a positive number"):
        RerunQualityOperator(task_id="x", rule_id=RULE, poll_interval=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        RerunQualityOperator(task_id="x", rule_id=RULE, timeout=-1)


def test_submit_sends_only_the_rerun_so_its_id_is_stored_at_once(rules, emulator):
    """ResumableJobMixin stores the run id when submit_job returns: any call before that would
    widen the window in which a dying worker makes its retry start a second run."""
    run = rerun(wait_for_completion=True).submit_job(context={})
    assert [entry["path"].rsplit("/", 1)[-1] for entry in rules.log] == ["restart"]
    assert run["instance_id"] == str(next(iter(rules.instances)))
