"""Bad input: a clear error naming the field and the rule, before any request; or a safely encoded path."""

from __future__ import annotations

import json

import pytest

from airflow_provider_dataarts._compat import AIRFLOW_VERSION_INFO, first_of
from airflow_provider_dataarts.hooks.dataarts import DataArtsHook
from airflow_provider_dataarts.operators.check import CheckTaskStopOperator
from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator, FactoryJobStopOperator
from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor
from tests.conftest import make_dag

AirflowNotFoundException = first_of("AirflowNotFoundException", "airflow.sdk.exceptions", "airflow.exceptions")

LONG_NAME = "n" * 65
LONG_VALUE = "v" * 1025

# (id, hook call, message the error must contain)
HOOK_CASES = [
    ("action-unknown", lambda h: h.quality_job_action("1", "go"), "action must be 'start' or 'stop', got 'go'"),
    ("action-upper", lambda h: h.quality_job_action("1", "START"), "action must be 'start' or 'stop', got 'START'"),
    ("action-none", lambda h: h.quality_job_action("1", None), "action must be 'start' or 'stop', got None"),
    (
        "rule-type-0",
        lambda h: h.rerun_quality_job("1", 0),
        "rule_type must be 1 (quality job) or 2 (comparison job), got 0",
    ),
    (
        "rule-type-3",
        lambda h: h.rerun_quality_job("1", 3),
        "rule_type must be 1 (quality job) or 2 (comparison job), got 3",
    ),
    (
        "rule-type-x",
        lambda h: h.rerun_quality_job("1", "x"),
        "rule_type must be 1 (quality job) or 2 (comparison job), got 'x'",
    ),
    (
        "rule-type-bool",
        lambda h: h.rerun_quality_job("1", True),
        "rule_type must be 1 (quality job) or 2 (comparison job), got True",
    ),
    ("rule-id-empty", lambda h: h.rerun_quality_job(""), "rule_id must not be empty"),
    ("rule-id-blank", lambda h: h.rerun_quality_job("   "), "rule_id must not be empty"),
    ("rule-id-none", lambda h: h.quality_job_action(None, "start"), "rule_id must be a string, got None"),
    ("rule-id-float", lambda h: h.rerun_quality_job(1.2e18), "rule_id must be a string, got float"),
    ("rule-id-padded", lambda h: h.rerun_quality_job(" 12 "), "rule_id must not start or end with whitespace"),
    ("rule-id-slash", lambda h: h.rerun_quality_job("12/34"), "rule_id may contain only letters, digits, '_' and '-'"),
    ("rule-id-long", lambda h: h.rerun_quality_job("1" * 65), "rule_id must be at most 64 characters, got 65"),
    ("instance-empty", lambda h: h.get_quality_instance_result(""), "instance_id must not be empty"),
    ("instance-slash", lambda h: h.get_quality_instance_result("1/../2"), "instance_id may contain only"),
    ("instance-dotdot", lambda h: h.cancel_quality_instance(".."), "instance_id may contain only"),
    ("instance-query", lambda h: h.get_quality_instance_result("1?x=2"), "(contains '?')"),
    ("instance-hash", lambda h: h.cancel_quality_instance("1#frag"), "(contains '#')"),
    ("instance-pct2f", lambda h: h.get_quality_instance_result("1%2F2"), "(contains '%')"),
    ("instance-newline", lambda h: h.cancel_quality_instance("1\n2"), "(contains '\\n')"),
    ("instance-unicode", lambda h: h.get_quality_instance("１２３"), "(contains '１')"),
    ("instance-lookup-empty", lambda h: h.get_quality_instance(" "), "instance_id must not be empty"),
    ("lookup-rule-type", lambda h: h.get_quality_instance("1", rule_type=5), "rule_type must be 1"),
    ("list-limit", lambda h: h.list_quality_instances(limit=101), "limit must be between 1 and 100, got 101"),
    ("job-empty", lambda h: h.start_factory_job(""), "job_name must not be empty"),
    ("job-slash", lambda h: h.start_factory_job("a/b"), "job_name must not contain '/' or '\\'"),
    ("job-backslash", lambda h: h.stop_factory_job("a\\b"), "job_name must not contain '/' or '\\'"),
    ("job-dotdot", lambda h: h.stop_factory_job(".."), "job_name must not be '.' or '..'"),
    ("job-newline", lambda h: h.start_factory_job("a\nb"), "job_name must not contain control characters"),
    ("job-long", lambda h: h.start_factory_job("j" * 129), "job_name must be at most 128 characters, got 129"),
    ("job-not-str", lambda h: h.stop_factory_job(["a"]), "job_name must be a string, got list"),
    ("param-name-long", lambda h: h.start_factory_job("j", {LONG_NAME: "1"}), "must be at most 64 characters, got 65"),
    (
        "param-value-long",
        lambda h: h.start_factory_job("j", {"a": LONG_VALUE}),
        "value must be at most 1024 characters, got 1025",
    ),
    (
        "param-value-dict",
        lambda h: h.start_factory_job("j", {"a": {"b": 1}}),
        "job_params['a'] must be a string or a number, got dict",
    ),
    (
        "param-value-none",
        lambda h: h.start_factory_job("j", {"a": None}),
        "job_params['a'] must be a string or a number, got NoneType",
    ),
    (
        "param-value-bool",
        lambda h: h.start_factory_job("j", {"a": True}),
        "job_params['a'] must be a string or a number, got bool",
    ),
    ("param-name-empty", lambda h: h.start_factory_job("j", {"": "1"}), "job_params names must be non-empty strings"),
    (
        "param-duplicate",
        lambda h: h.start_factory_job("j", [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]),
        "job_params name 'a' is given twice",
    ),
    (
        "param-list-shape",
        lambda h: h.start_factory_job("j", [{"key": "a", "value": "1"}]),
        "job_params list items must be {'name': ..., 'value': ...}",
    ),
    ("param-not-json", lambda h: h.start_factory_job("j", "a=1"), "neither JSON nor a literal"),
    ("param-type", lambda h: h.start_factory_job("j", 42), "job_params must be a dict or a list"),
    ("check-empty", lambda h: h.stop_check_task(""), "check_task_id must not be empty"),
    ("check-long", lambda h: h.stop_check_task("a" * 33), "check_task_id must be at most 32 characters, got 33"),
    ("check-slash", lambda h: h.stop_check_task("a/b"), "check_task_id may contain only"),
    ("check-space", lambda h: h.stop_check_task("a b"), "check_task_id may contain only"),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in HOOK_CASES], ids=[c[0] for c in HOOK_CASES])
def test_hook_rejects_bad_input_before_any_request(emulator, call, message):
    with pytest.raises(ValueError) as info:
        call(DataArtsHook())
    assert message in str(info.value)
    assert not emulator.service.log


# (id, connection change, message)
CONNECTION_CASES = [
    ("extra-not-json", {"extra": "{not json"}, "extra is not valid JSON"),
    ("extra-not-object", {"extra": "[1, 2]"}, "extra must be a JSON object"),
    (
        "auth-type-unknown",
        {"extra": {"auth_type": "oauth"}},
        "extra.auth_type must be one of aksk, password, token, got 'oauth'",
    ),
    ("ak-missing", {"login": None}, "login (Access Key) is required for auth_type 'aksk'"),
    ("sk-missing", {"password": None}, "password (Secret Key) is required for auth_type 'aksk'"),
    (
        "password-without-domain",
        {"extra": {"auth_type": "password"}},
        "extra.domain_name (the account name) is required",
    ),
    ("token-missing", {"extra": {"auth_type": "token"}, "password": None}, "password (the IAM token) is required"),
    (
        "security-token-conflict",
        {"extra": {"auth_type": "token", "security_token": "abc"}},
        "extra.security_token goes with auth_type 'aksk'",
    ),
    (
        "unknown-region",
        {"host": None, "extra": {"region": "mars-north-1"}},
        "region 'mars-north-1' is not a known DataArts Studio region",
    ),
    ("no-region-no-host", {"host": None, "extra": {"region": None}}, "no endpoint for DataArts quality: set region"),
    ("endpoints-unknown-service", {"extra": {"endpoints": {"dlf": "https://x"}}}, "extra.endpoints keys must be among"),
    ("endpoints-not-json", {"extra": {"endpoints": "{quality:"}}, "extra.endpoints must be a JSON object"),
    ("endpoint-bad-url", {"extra": {"endpoints": {"quality": "ftp://x"}}}, "extra.endpoints.quality must be a URL"),
    ("host-with-query", {"host": "https://h?x=1"}, "connection host must be a URL"),
    (
        "timeout-negative",
        {"extra": {"timeout": -1}},
        "extra.timeout must be a positive number of seconds or [connect, read]",
    ),
    ("timeout-triple", {"extra": {"timeout": [1, 2, 3]}}, "extra.timeout must be a positive number"),
    (
        "verify-missing-file",
        {"extra": {"verify": "/no/such/ca.pem"}},
        "extra.verify must be true, false or the path of a CA bundle",
    ),
    ("project-slash", {"extra": {"project_id": "p/1"}}, "project_id may contain only letters, digits"),
    ("workspace-missing", {"extra": {"workspace": None}}, "workspace is required for DataArts quality calls"),
    ("proxies-not-object", {"extra": {"proxies": "[1]"}}, "extra.proxies must be an object"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in CONNECTION_CASES], ids=[c[0] for c in CONNECTION_CASES])
def test_unusable_connection_is_explained_before_any_request(emulator, monkeypatch, change, message):
    conn = emulator.connection()
    for key, value in change.items():
        if key == "extra" and isinstance(value, dict):
            conn["extra"].update(value)
            conn["extra"] = {k: v for k, v in conn["extra"].items() if v is not None}
        else:
            conn[key] = value
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    try:
        DataArtsHook.get_connection("dataarts_default")
    except AirflowNotFoundException:
        # Airflow 3.0 and 3.1 drop a connection whose extra it cannot parse before any hook sees it.
        assert change.get("extra") in ("{not json", "[1, 2]") and AIRFLOW_VERSION_INFO in ((3, 0), (3, 1))
    else:
        with pytest.raises(ValueError) as info:
            DataArtsHook().list_quality_instances()
        assert message in str(info.value)
    assert not emulator.service.log


def test_airflow_2_form_extras_with_prefix_are_read(emulator, monkeypatch):
    conn = emulator.connection()
    conn["extra"] = {f"extra__dataarts__{k}": v for k, v in conn["extra"].items()}
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    assert DataArtsHook().list_quality_instances()["count"] == 0


@pytest.mark.parametrize(
    ("job_name", "sent"),
    [
        ("daily load", "daily%20load"),
        ("what?", "what%3F"),
        ("a#b", "a%23b"),
        ("a%2Fb", "a%252Fb"),  # a literal "%2F" is a name, not an encoded "/"
        ("订单加载", "%E8%AE%A2%E5%8D%95%E5%8A%A0%E8%BD%BD"),
        ("a+b=c&d", "a%2Bb%3Dc%26d"),
    ],
)
def test_job_names_are_sent_percent_encoded(emulator, job_name, sent):
    emulator.service.add_job(job_name)
    DataArtsHook().start_factory_job(job_name)
    assert emulator.service.log[-1]["path"] == f"/v1/{emulator.service.project_id}/jobs/{sent}/start"
    assert emulator.service.jobs[job_name].starts == 1


def test_operators_reject_bad_rendered_input_before_any_request(run_dag, emulator):
    """Templated values are checked after rendering, in every operator and the sensor."""
    cases = {
        "action": (
            QualityJobActionOperator,
            {"rule_id": "1", "action": "{{ params.action }}"},
            "action must be 'start' or 'stop', got 'restart'",
        ),
        "rule_type": (
            RerunQualityOperator,
            {"rule_id": "1", "rule_type": "{{ params.rule_type }}"},
            "rule_type must be 1 (quality job) or 2 (comparison job), got '0'",
        ),
        "rule_id": (RerunQualityOperator, {"rule_id": "{{ params.rule_id }}"}, "rule_id may contain only"),
        "job_params": (
            FactoryJobStartOperator,
            {"job_name": "j", "job_params": "{{ params.job_params | tojson }}"},
            "must be at most 64 characters, got 65",
        ),
        "job_name": (FactoryJobStopOperator, {"job_name": "{{ params.job }}"}, "job_name must not contain '/'"),
        "check_task_id": (
            CheckTaskStopOperator,
            {"check_task_id": "{{ params.check }}"},
            "check_task_id must be at most 32 characters, got 40",
        ),
        "instance_id": (
            QualityInstanceSensor,
            {"instance_id": "{{ params.instance }}", "timeout": 5},
            "instance_id may contain only",
        ),
    }
    params = {
        "action": "restart",
        "rule_type": "0",
        "rule_id": "12;34",
        "job_params": {LONG_NAME: "1"},
        "job": "daily/../x",
        "check": "c" * 40,
        "instance": "1?offset=0",
    }
    with make_dag("bad_rendered_input", params=params) as dag:
        for name, (operator, kwargs, _) in cases.items():
            operator(task_id=name, **kwargs)
    result = run_dag(dag)
    assert result.states == dict.fromkeys(cases, "failed")
    for name, (_, _, message) in cases.items():
        assert message in result.error(name), name
    assert not emulator.service.log
