"""Literal arguments are checked when the DAG is parsed, so a mistake is an import error naming the field.

Templated values are checked after rendering instead (``tests/test_bad_input.py``).
"""

from __future__ import annotations

import textwrap

import pytest

from airflow_provider_dataarts._compat import first_of
from airflow_provider_dataarts.exceptions import DataArtsInputError
from airflow_provider_dataarts.operators.check import CheckTaskStopOperator
from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator, FactoryJobStopOperator
from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor

Action, Rerun, Sensor = QualityJobActionOperator, RerunQualityOperator, QualityInstanceSensor
Start, Stop, Check = FactoryJobStartOperator, FactoryJobStopOperator, CheckTaskStopOperator
NOTHING = "(a template that finds nothing (an xcom_pull of a task that pushed no value?) renders None)"

# (id, operator, arguments, the whole message)
CASES = [
    ("action", Action, {"rule_id": "1", "action": "restart"}, "action must be 'start' or 'stop', got 'restart'"),
    ("action-rule-id", Action, {"rule_id": None}, f"rule_id must be a string, got None {NOTHING}"),
    (
        "rule_type",
        Rerun,
        {"rule_id": "1", "rule_type": 3},
        "rule_type must be 1 (quality job) or 2 (comparison job), got 3",
    ),
    (
        "rule_id",
        Rerun,
        {"rule_id": "12/34"},
        "rule_id may contain only letters, digits, '_' and '-', got '12/34' (contains '/')",
    ),
    ("rule_id-none-string", Rerun, {"rule_id": "None"}, f"rule_id must be an id, got 'None' {NOTHING}"),
    (
        "poll_interval",
        Rerun,
        {"rule_id": "1", "poll_interval": 0},
        "poll_interval must be a positive number of seconds, got 0",
    ),
    ("timeout", Rerun, {"rule_id": "1", "timeout": -5}, "timeout must be a positive number of seconds or None, got -5"),
    (
        "fail_on_alarm",
        Rerun,
        {"rule_id": "1", "fail_on_alarm": "false"},
        "fail_on_alarm must be True or False, got 'false'",
    ),
    (
        "wait_for_completion",
        Rerun,
        {"rule_id": "1", "wait_for_completion": 1},
        "wait_for_completion must be True or False, got 1",
    ),
    ("deferrable", Sensor, {"instance_id": "1", "deferrable": "yes"}, "deferrable must be True or False, got 'yes'"),
    ("instance_id", Sensor, {"instance_id": ""}, "instance_id must not be empty"),
    (
        "sensor-rule_type",
        Sensor,
        {"instance_id": "1", "rule_type": "3"},
        "rule_type must be 1 (quality job) or 2 (comparison job), got '3'",
    ),
    (
        "started_after",
        Sensor,
        {"instance_id": "1", "started_after": "yesterday"},
        "started_after must be a datetime, epoch milliseconds or an ISO-8601 time, got 'yesterday'",
    ),
    (
        "started_after-seconds",
        Sensor,
        {"instance_id": "1", "started_after": 1767225600},
        "started_after must be a datetime, epoch milliseconds (13 digits) or an ISO-8601 time, got 1767225600",
    ),
    (
        "not_found_grace",
        Sensor,
        {"instance_id": "1", "not_found_grace": -1},
        "not_found_grace must be a non-negative number of seconds, got -1",
    ),
    (
        "job_name",
        Stop,
        {"job_name": "daily/load"},
        "job_name must not contain '/' or '\\' (it would change the URL path), got 'daily/load'",
    ),
    (
        "job_params",
        Start,
        {"job_name": "j", "job_params": {"a": None}},
        "job_params['a'] must be a string or a number, got NoneType",
    ),
    (
        "job_params-list",
        Start,
        {"job_name": "j", "job_params": [{"key": "a"}]},
        "job_params list items must be {'name': ..., 'value': ...}, got {'key': 'a'}",
    ),
    (
        "check_task_id",
        Check,
        {"check_task_id": "a b"},
        "check_task_id may contain only letters, digits, '_' and '-', got 'a b' (contains ' ')",
    ),
    ("check_task_id-long", Check, {"check_task_id": "c" * 33}, "check_task_id must be at most 32 characters, got 33"),
    (
        "project_id",
        Check,
        {"check_task_id": "c", "project_id": "p/1"},
        "project_id may contain only letters, digits, '_' and '-', got 'p/1' (contains '/')",
    ),
    (
        "workspace",
        Action,
        {"rule_id": "1", "workspace": " w1"},
        "workspace must not start or end with whitespace, got ' w1'",
    ),
    (
        "region",
        Stop,
        {"job_name": "j", "region": "CN North 4"},
        "region must look like cn-north-4 (lower-case letters, digits, '-'), got 'CN North 4'",
    ),
    ("dataarts_conn_id", Stop, {"job_name": "j", "dataarts_conn_id": ""}, "dataarts_conn_id must not be empty"),
    (
        "hook_params-key",
        Stop,
        {"job_name": "j", "hook_params": {"retry_limt": 3}},
        "hook_params keys must be among retry_limit, retry_delay, retry_max_delay, logger_name, got ['retry_limt']",
    ),
    (
        "hook_params-value",
        Stop,
        {"job_name": "j", "hook_params": {"retry_limit": 0}},
        "retry_limit must be a whole number of at least 1, got 0",
    ),
]


@pytest.mark.parametrize(("operator", "kwargs", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_literal_mistake_fails_in_the_constructor(operator, kwargs, message):
    with pytest.raises(DataArtsInputError) as info:
        operator(task_id="t", **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("operator", "kwargs"),
    [
        (Action, {"rule_id": "{{ params.rule }}", "action": "{{ params.action }}"}),
        (Rerun, {"rule_id": "{{ params.rule }}", "rule_type": "{{ params.kind }}"}),
        (Sensor, {"instance_id": "{{ ti.xcom_pull(task_ids='rerun') }}", "started_after": "{{ dag_run.start_date }}"}),
        (Start, {"job_name": "{% if params.big %}big{% else %}small{% endif %}", "job_params": {"day": "{{ ds }}"}}),
        (Start, {"job_name": "j", "job_params": "{{ params.job_params | tojson }}"}),
        (Check, {"check_task_id": "{{ params.check }}", "project_id": "{{ var.value.project }}"}),
    ],
    ids=["action", "rerun", "sensor", "factory-params", "factory-json", "check"],
)
def test_templates_are_left_for_after_rendering(operator, kwargs):
    assert operator(task_id="t", **kwargs)


def test_the_dag_shows_an_import_error_naming_the_field(tmp_path):
    DagBag = first_of("DagBag", "airflow.dag_processing.dagbag", "airflow.models.dagbag")
    (tmp_path / "typo_dag.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime

            from airflow import DAG
            from airflow_provider_dataarts.operators.quality import QualityJobActionOperator

            with DAG("typo", schedule=None, start_date=datetime(2026, 1, 1)):
                QualityJobActionOperator(task_id="schedule", rule_id="1200372516590559232", action="restart")
            """
        )
    )
    bag = DagBag(dag_folder=str(tmp_path))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    assert not bag.dags
    (error,) = bag.import_errors.values()
    assert "DataArtsInputError: action must be 'start' or 'stop', got 'restart'" in error
