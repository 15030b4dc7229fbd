"""A mistake fails the task once, at once, with the message that says what to fix; an outage is retried.

Every DAG here runs with ``retries=2`` through real Airflow (``dag.test()``): a typo, a wrong
secret key or an unknown job must end ``failed`` after one try, not ``up_for_retry``.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from airflow_provider_dataarts.exceptions import (
    PERMANENT_STATUSES,
    DataArtsApiError,
    DataArtsInputError,
    DataArtsPermanentApiError,
)
from airflow_provider_dataarts.operators.check import CheckTaskStopOperator
from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator
from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor
from tests.conftest import FAILURES, make_dag

FAST = {"retry_limit": 1, "retry_delay": 0.01}
RETRIES = {"retries": 2, "retry_delay": timedelta(0)}


def test_only_answers_that_cannot_change_are_permanent():
    fields = {"service": "factory", "method": "POST", "path": "/v1/p/jobs/j/start"}
    for status in (400, 401, 403, 404):
        assert type(DataArtsApiError.create(status=status, **fields)) is DataArtsPermanentApiError
    for status in (None, 429, 500, 502, 503, 504):
        assert type(DataArtsApiError.create(status=status, **fields)) is DataArtsApiError
    assert DataArtsApiError.create(transient=False, **fields).permanent  # a certificate that does not verify
    assert {400, 401, 403, 404} == PERMANENT_STATUSES


def _run_failing(run_dag, dag_id, operator, **kwargs):
    with make_dag(dag_id, default_args=RETRIES) as dag:
        operator(task_id="task", hook_params=FAST, **kwargs)
    result = run_dag(dag)
    return result, FAILURES[(dag_id, "task")]


@pytest.mark.parametrize(
    ("operator", "kwargs", "message"),
    [
        (
            FactoryJobStartOperator,
            {"job_name": "no_such_job"},
            "DataArts factory call POST /v1/{project}/jobs/no_such_job/start failed with HTTP 400 DLF.0100: "
            "The job does not exists.",
        ),
        (
            RerunQualityOperator,
            {"rule_id": "404404"},
            "DataArts quality call POST /v2/{project}/quality/instances/restart failed with HTTP 400 DQC.1005: "
            "The quality job 404404 does not exist.",
        ),
        (
            QualityJobActionOperator,
            {"rule_id": "404404", "action": "stop"},
            "DataArts quality call POST /v2/{project}/quality/quality-tasks/action failed with HTTP 400 DQC.1005: "
            "The quality job 404404 does not exist.",
        ),
        (
            CheckTaskStopOperator,
            {"check_task_id": "nosuchtask"},
            "DataArts check call POST /v2/tasks/nosuchtask/stop failed with HTTP 400 CC.00000002: "
            "The task nosuchtask does not exist.",
        ),
    ],
    ids=["factory-unknown-job", "rerun-unknown-rule", "action-unknown-rule", "check-unknown-task"],
)
def test_a_permanent_api_error_fails_once(run_dag, emulator, operator, kwargs, message):
    result, error = _run_failing(run_dag, f"permanent_{operator.__name__}", operator, **kwargs)
    assert (result.states, result.tries) == ({"task": "failed"}, {"task": 1})
    assert isinstance(error, DataArtsApiError) and error.permanent  # still the one type users catch
    assert str(error) == message.format(project=emulator.service.project_id)


def test_a_wrong_secret_key_fails_once_with_a_hint(run_dag, emulator, monkeypatch):
    conn = emulator.connection()
    conn["password"] = "not-the-secret-key"
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    result, error = _run_failing(run_dag, "permanent_wrong_sk", CheckTaskStopOperator, check_task_id="c1")
    assert (result.states, result.tries) == ({"task": "failed"}, {"task": 1})
    assert str(error) == (
        "DataArts check call POST /v2/tasks/c1/stop failed with HTTP 401 APIGW.0301: "
        "Incorrect IAM authentication information: verify aksk signature fail "
        "(check the connection's AK/SK (or token), that this machine's clock is right "
        "(a signature is refused 15 minutes off), and its project_id)"
    )
    assert "not-the-secret-key" not in str(error)


@pytest.mark.parametrize(
    ("operator", "kwargs", "message"),
    [
        (RerunQualityOperator, {"rule_id": "1", "rule_type": "{{ params.bad }}"}, "rule_type must be 1"),
        (QualityJobActionOperator, {"rule_id": "1", "action": "{{ params.bad }}"}, "action must be 'start' or"),
        (QualityInstanceSensor, {"instance_id": "{{ params.bad }}", "timeout": 5}, "instance_id may contain only"),
    ],
    ids=["rule_type", "action", "instance_id"],
)
def test_bad_rendered_input_fails_once(run_dag, emulator, operator, kwargs, message):
    with make_dag(f"input_{operator.__name__}", default_args=RETRIES, params={"bad": "3/x"}) as dag:
        operator(task_id="task", **kwargs)
    result = run_dag(dag)
    assert (result.states, result.tries) == ({"task": "failed"}, {"task": 1})
    error = FAILURES[(dag.dag_id, "task")]
    assert isinstance(error, DataArtsInputError) and isinstance(error, ValueError)
    assert message in str(error)
    assert not emulator.service.log


def test_an_outage_is_still_retried(run_dag, emulator):
    emulator.service.add_job("load")
    emulator.service.add_fault(path="/jobs/load/start$", status=503, times=None)
    result, error = _run_failing(run_dag, "outage_retried", FactoryJobStartOperator, job_name="load")
    assert (result.states, result.tries) == ({"task": "failed"}, {"task": 3})
    assert not error.permanent and "HTTP 503" in str(error)
