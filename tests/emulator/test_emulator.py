"""The emulator on its own: what it accepts, rejects, remembers, and how it misbehaves on purpose."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from airflow_provider_dataarts import signer
from airflow_provider_dataarts.emulator import DEFAULT_AK, DEFAULT_SK, Emulator, connection_for
from airflow_provider_dataarts.emulator.service import CONFIG_KEYS, EmulatorConfigError, demo_config

RULE = "1200372516590559232"


@pytest.fixture
def emu():
    with Emulator(static_tokens=("STATIC",), users={("acme", "bob"): "pw"}) as emulator:
        emulator.service.add_rule(RULE, "orders", outcomes=["FAILED", "SUCCESS"], duration=0.2)
        emulator.service.add_rule("2", "comparison", rule_type=2)
        emulator.service.add_job("load")
        emulator.service.add_check_task("c1")
        yield emulator


def send(
    emu,
    method,
    path,
    *,
    body=None,
    query=(),
    headers=None,
    sk=DEFAULT_SK,
    ak=DEFAULT_AK,
    date=None,
    sign=True,
    tamper=None,
):
    """Sign like the hook does (or not), then send with plain requests."""
    service = emu.service
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    host = urlsplit(emu.url).netloc
    hdrs = {
        "Host": host,
        "Content-Type": "application/json",
        "X-Sdk-Date": date or signer.sdk_date(),
        "workspace": next(iter(service.workspaces)),
    }
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    if sign:
        hdrs["Authorization"] = signer.sign(
            method=method, path=path, query=query, headers=hdrs, body=data, ak=ak, sk=sk
        )
    if tamper:
        path, data = tamper(path, data)
    query_string = signer.canonical_query(query)
    url = f"{emu.url}{path}" + (f"?{query_string}" if query_string else "")
    return requests.request(method, url, data=data, headers=hdrs, timeout=5)


def quality(emu, suffix=""):
    return f"/v2/{emu.service.project_id}/quality{suffix}"


# -- authentication ------------------------------------------------------------------------


def test_signed_request_is_accepted(emu):
    response = send(emu, "GET", quality(emu, "/instances"), query=[("limit", "5")])
    assert response.status_code == 200 and response.json() == {"count": 0, "resources": []}


def test_request_signed_by_huaweis_own_sdk_is_accepted(emu):
    host = urlsplit(emu.url).netloc
    path = quality(emu, "/instances/restart")
    body = json.dumps({"rule_type": 1, "rule_id": RULE}).encode()
    request = SdkRequest(
        "POST",
        "http",
        host,
        path,
        query_params=[],
        header_params={"Content-Type": "application/json", "workspace": next(iter(emu.service.workspaces))},
        body=body,
    )
    Signer(BasicCredentials(DEFAULT_AK, DEFAULT_SK)).sign(request)
    response = requests.post(f"{emu.url}{request.uri}", data=body, headers=request.header_params, timeout=5)
    assert response.status_code == 200 and response.json()["instance_id"]


@pytest.mark.parametrize(
    ("case", "kwargs", "detail"),
    [
        ("unsigned", {"sign": False}, "Authorization header is missing"),
        ("wrong secret", {"sk": "not-the-secret"}, "verify aksk signature fail"),
        ("unknown key", {"ak": "NOBODY"}, "access key does not exist"),
        (
            "stale date",
            {"date": (datetime.now(UTC) - timedelta(minutes=20)).strftime(signer.DATE_FORMAT)},
            "signature expired",
        ),
        (
            "future date",
            {"date": (datetime.now(UTC) + timedelta(minutes=20)).strftime(signer.DATE_FORMAT)},
            "signature expired",
        ),
        ("malformed date", {"date": "yesterday"}, "X-Sdk-Date is malformed"),
        (
            "tampered body",
            {"body": {"rule_type": 1, "rule_id": RULE}, "tamper": lambda p, d: (p, d.replace(b'"1', b'"9'))},
            "verify aksk signature fail",
        ),
        (
            "tampered path",
            {"tamper": lambda p, d: (p.replace("instances/restart", "quality-tasks/action"), d)},
            "verify aksk signature fail",
        ),
        ("wrong project header", {"headers": {"X-Project-Id": "someone-else"}}, "X-Project-Id does not match"),
    ],
)
def test_bad_signatures_are_401_with_an_error_code(emu, case, kwargs, detail):
    kwargs.setdefault("body", {"rule_type": 1, "rule_id": RULE})
    response = send(emu, "POST", quality(emu, "/instances/restart"), **kwargs)
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301" and detail in response.json()["error_msg"]
    assert emu.service.calls["quality_rerun"] == 0


def test_temporary_keys_need_their_security_token():
    with Emulator(temporary_keys={"TMP": ("TMPSK", "STS")}) as emu:
        ok = send(emu, "GET", quality(emu, "/instances"), ak="TMP", sk="TMPSK", headers={"X-Security-Token": "STS"})
        missing = send(emu, "GET", quality(emu, "/instances"), ak="TMP", sk="TMPSK")
        assert (ok.status_code, missing.status_code) == (200, 401)


def test_iam_tokens(emu):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "bob", "password": "pw", "domain": {"name": "acme"}}},
            },
            "scope": {"project": {"id": emu.service.project_id}},
        }
    }
    issued = requests.post(f"{emu.url}/v3/auth/tokens", json=body, timeout=5)
    assert issued.status_code == 201 and issued.json()["token"]["expires_at"].endswith("Z")
    token = issued.headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token, "workspace": next(iter(emu.service.workspaces))}
    assert requests.get(emu.url + quality(emu, "/instances"), headers=headers, timeout=5).status_code == 200
    body["auth"]["identity"]["password"]["user"]["password"] = "bad"
    refused = requests.post(f"{emu.url}/v3/auth/tokens", json=body, timeout=5)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 401
    bad = requests.get(emu.url + quality(emu, "/instances"), headers={**headers, "X-Auth-Token": "forged"}, timeout=5)
    assert bad.status_code == 401 and "token is invalid or expired" in bad.json()["error_msg"]


def test_expired_iam_token_is_refused(emu):
    emu.service.tokens["SHORT"] = time.time() - 1
    response = requests.get(
        emu.url + quality(emu, "/instances"),
        headers={"X-Auth-Token": "SHORT", "workspace": next(iter(emu.service.workspaces))},
        timeout=5,
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/tasks/c1/stop"),
        ("POST", "/v1/{project}/jobs/load/stop"),
        ("GET", "/v2/{project}/quality/instances"),
    ],
    ids=["check", "factory", "quality"],
)
def test_a_wrong_sk_gets_the_same_apig_answer_on_every_service(emu, method, path):
    """APIG checks the signature before the service sees the call."""
    response = send(emu, method, path.format(project=emu.service.project_id), sk="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error_code": "APIGW.0301",
        "error_msg": "Incorrect IAM authentication information: verify aksk signature fail",
    }


def test_an_expired_token_on_check_gets_its_own_code(emu):
    emu.service.tokens["OLD"] = time.time() - 1
    response = requests.post(f"{emu.url}/v2/tasks/c1/stop", headers={"X-Auth-Token": "OLD"}, timeout=5)
    assert (response.status_code, response.json()) == (
        401,
        {"error_code": "CC.00000003", "error_msg": "Authentication information expired."},
    )


# -- the documented answers ------------------------------------------------------------------


def test_quality_calls_need_the_workspace_header_and_factory_calls_do_not(emu):
    missing = send(emu, "GET", quality(emu, "/instances"), headers={"workspace": None})
    assert missing.status_code == 400 and missing.json()["error_code"] == "DQC.1001"
    unknown = send(emu, "GET", quality(emu, "/instances"), headers={"workspace": "elsewhere"})
    assert unknown.json()["error_code"] == "DQC.1002"
    started = send(emu, "POST", f"/v1/{emu.service.project_id}/jobs/load/start", headers={"workspace": None})
    assert started.status_code == 204 and started.content == b""


def test_unknown_objects_get_the_documented_codes(emu):
    job = send(emu, "POST", f"/v1/{emu.service.project_id}/jobs/nope/stop")
    assert (job.status_code, job.json()) == (400, {"error_code": "DLF.0100", "error_msg": "The job does not exists."})
    rule = send(emu, "POST", quality(emu, "/quality-tasks/action"), body={"action": "start", "rule_id": "404"})
    assert rule.json()["error_code"] == "DQC.1005"
    wrong_type = send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 2, "rule_id": RULE})
    assert wrong_type.json()["error_code"] == "DQC.1005"
    task = send(emu, "POST", "/v2/tasks/nope/stop")
    assert task.json()["error_code"] == "CC.00000002"
    api = send(emu, "GET", "/v9/nothing")
    assert api.status_code == 404 and api.json()["error_code"] == "APIGW.0101"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/quality-tasks/action", b"{not json"),
        ("/quality-tasks/action", {"action": "pause", "rule_id": RULE}),
        ("/quality-tasks/action", {"action": "start", "rule_id": 1200372516590559232}),  # rule_id must be a string
        ("/instances/restart", {"rule_type": "1", "rule_id": RULE}),
        ("/instances/restart", [1, 2]),
    ],
)
def test_malformed_bodies_are_400(emu, path, body):
    response = send(emu, "POST", quality(emu, path), body=body)
    assert response.status_code == 400 and response.json()["error_code"] == "DQC.1004"


def test_factory_job_params_are_checked(emu):
    long_name = send(
        emu,
        "POST",
        f"/v1/{emu.service.project_id}/jobs/load/start",
        body={"jobParams": [{"name": "n" * 65, "value": "1"}]},
    )
    assert long_name.status_code == 400 and long_name.json()["error_code"] == "DLF.0101"


def test_check_stop_answers_null(emu):
    response = send(emu, "POST", "/v2/tasks/c1/stop")
    assert response.status_code == 200 and response.content == b"null"


# -- state and lifecycle -------------------------------------------------------------------


def test_rerun_lifecycle_and_outcomes_in_turn(emu):
    first = send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE}).json()
    second = send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE}).json()
    assert isinstance(first["instance_id"], str) and len(first["instance_id"]) == 19

    def statuses():
        rows = send(emu, "GET", quality(emu, "/instances"), query=[("limit", "10")]).json()["resources"]
        return {str(r["id"]): (r["run_status"], r["end_time"]) for r in rows}

    assert {s for s, _ in statuses().values()} == {"RUNNING"}
    time.sleep(0.25)
    now = statuses()
    assert now[first["instance_id"]][0] == "FAILED" and now[second["instance_id"]][0] == "SUCCESS"
    assert all(end for _, end in now.values())
    assert emu.service.calls["quality_rerun"] == 2


def test_cancel_semantics_follow_the_page(emu):
    emu.service.rules[RULE].duration = 60
    instance_id = send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE}).json()[
        "instance_id"
    ]
    keep = send(emu, "PUT", quality(emu, f"/instances/{instance_id}"), body={"cancel_run": True})
    assert keep.status_code == 200 and emu.service.instances[int(instance_id)].run_status(0) == "RUNNING"
    cancel = send(emu, "PUT", quality(emu, f"/instances/{instance_id}"), body={"cancel_run": False})
    assert cancel.status_code == 200
    assert emu.service.instances[int(instance_id)].run_status(int(time.time() * 1000)) == "FAILED"
    again = send(emu, "PUT", quality(emu, f"/instances/{instance_id}"), body={"cancel_run": False})
    assert again.json()["error_code"] == "DQC.1007"


def test_list_filters_and_paging(emu):
    emu.service.add_history(RULE, 250, days=10)
    emu.service.add_history("2", 30, days=10)

    def page(**query):
        return send(emu, "GET", quality(emu, "/instances"), query=[(k, str(v)) for k, v in query.items()]).json()

    assert page()["count"] == 280 and len(page()["resources"]) == 10  # default limit
    assert page(task_type="CONSISTENCY_TASK")["count"] == 30
    assert page(run_status="ALARMING", limit=100)["count"] == len(
        [i for i in emu.service.instances.values() if i.outcome == "ALARMING"]
    )
    rows = [r for offset in (0, 100, 200) for r in page(limit=100, offset=offset)["resources"]]
    assert len({r["id"] for r in rows}) == 280  # three pages, no overlap, nothing missed
    assert [r["start_time"] for r in rows] == sorted((r["start_time"] for r in rows), reverse=True)
    starts = sorted(i.start_ms for i in emu.service.instances.values())
    window = page(start_time=starts[10], end_time=starts[19], limit=100)
    assert window["count"] == 10
    assert page(limit=101).get("error_code") == "DQC.1004"
    assert page(name="compar", limit=1)["count"] == 30


# -- faults --------------------------------------------------------------------------------


def test_fault_status_with_retry_after_then_normal(emu):
    emu.service.add_fault(path="/instances$", status=429, retry_after=2, times=2)
    answers = [send(emu, "GET", quality(emu, "/instances")) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "2" and answers[0].json()["error_code"] == "EMU.429"


def test_fault_non_json_body_and_method_filter(emu):
    emu.service.add_fault(path="/instances", method="GET", status=502, body="<html>Bad Gateway</html>")
    assert send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE}).ok
    answer = send(emu, "GET", quality(emu, "/instances"))
    assert answer.status_code == 502 and answer.text == "<html>Bad Gateway</html>"


@pytest.mark.parametrize(("drop", "acted"), [("before", 0), ("after", 1)])
def test_dropped_connection_before_or_after_acting(emu, drop, acted):
    emu.service.add_fault(path="/restart$", drop=drop)
    with pytest.raises(requests.ConnectionError):
        send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE})
    assert emu.service.calls["quality_rerun"] == acted


def test_latency_and_malformed_json(emu):
    emu.service.add_fault(path="/restart$", latency=0.3, malformed=True)
    started = time.monotonic()
    answer = send(emu, "POST", quality(emu, "/instances/restart"), body={"rule_type": 1, "rule_id": RULE})
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert emu.service.calls["quality_rerun"] == 1


def test_control_api(emu):
    assert requests.post(f"{emu.url}/_emulator/faults", json={"path": "/stop$", "status": 503}, timeout=5).ok
    assert send(emu, "POST", "/v2/tasks/c1/stop").status_code == 503
    assert requests.post(f"{emu.url}/_emulator/config", json={"jobs": ["extra_job"]}, timeout=5).ok
    state = requests.get(f"{emu.url}/_emulator/state", timeout=5).json()
    assert "extra_job" in state["jobs"] and state["calls"] == {}
    log = requests.get(f"{emu.url}/_emulator/log", timeout=5).json()
    assert log[-1] == {"method": "POST", "path": "/v2/tasks/c1/stop", "query": "", "status": 503, "fault": True}
    assert requests.post(f"{emu.url}/_emulator/faults", json={"nonsense": 1}, timeout=5).status_code == 400


# -- as a process, and under load --------------------------------------------------------------


EMULATOR_CLI = [sys.executable, "-m", "airflow_provider_dataarts.emulator"]
DEMO_RULES = {"1200372516590559232", "1200372516590559233", "1440764172232392705"}


def start_cli(*args):
    """The command-line emulator on a free port: (process, URL line, connection line)."""
    process = subprocess.Popen([*EMULATOR_CLI, "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip(), process.stdout.readline().strip()


def test_command_line_emulator_serves_the_demo_set_and_stops_on_sigterm(tmp_path):
    process, listening, _ = start_cli()
    try:
        url = listening.rsplit(" ", 1)[1]
        state = requests.get(f"{url}/_emulator/state", timeout=5).json()
        assert "load_orders" in state["jobs"] and set(state["rules"]) == DEMO_RULES
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_command_line_emulator_prints_the_ready_connection_line(monkeypatch):
    from airflow_provider_dataarts.hooks.dataarts import DataArtsHook

    process, listening, ready = start_cli()
    try:
        url = listening.removeprefix("DataArts emulator listening on ")
        ((name, value),) = [word.split("=", 1) for word in shlex.split(ready.removeprefix("export "))]
        assert ready.startswith("export AIRFLOW_CONN_DATAARTS_DEFAULT='{") and name == "AIRFLOW_CONN_DATAARTS_DEFAULT"
        assert json.loads(value) == connection_for(url)
        monkeypatch.setenv(name, value)  # pasted into a shell, that line is all Airflow needs
        ok, message = DataArtsHook().test_connection()
        assert ok, message
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_print_connection_is_for_scripts():
    printed = subprocess.run([*EMULATOR_CLI, "--print-connection", "--port", "9999"], capture_output=True, text=True)
    assert printed.returncode == 0 and json.loads(printed.stdout) == connection_for("http://127.0.0.1:9999")
    refused = subprocess.run([*EMULATOR_CLI, "--print-connection", "--port", "0"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--print-connection needs a fixed --port" in refused.stderr


def test_help_is_plain_text():
    shown = subprocess.run([*EMULATOR_CLI, "--help"], capture_output=True, text=True, check=True).stdout
    assert "AIRFLOW_CONN_DATAARTS_DEFAULT" in shown and "--print-connection" in shown and "demo.json" in shown
    for markup in ("``", ":class:", ":meth:", ":param", ".. "):
        assert markup not in shown


def test_in_process_emulator_starts_with_the_demo_set_like_the_command_line():
    with Emulator() as emulator:
        assert set(emulator.service.rules) == DEMO_RULES
        assert set(emulator.service.jobs) == {"load_orders", "refresh_dashboards"}
        assert set(emulator.service.check_tasks) == {"2b31ed520a1c4bd6aebedb6e57a8c9d0"}
    with Emulator(demo=False, config={"jobs": ["mine"]}) as emulator:
        assert (emulator.service.rules, set(emulator.service.jobs)) == ({}, {"mine"})
    with Emulator(config={"rules": [{"rule_id": "1001"}]}) as emulator:
        assert set(emulator.service.rules) == {*DEMO_RULES, "1001"}


def test_config_file_extends_the_demo_set_or_replaces_it(tmp_path):
    config = tmp_path / "rules.json"
    config.write_text(json.dumps({"rules": [{"rule_id": "1001", "outcomes": ["ALARMING"]}], "jobs": ["mine"]}))
    for extra, rules in (((), {*DEMO_RULES, "1001"}), (("--no-demo",), {"1001"})):
        process, listening, _ = start_cli("--config", str(config), *extra)
        try:
            state = requests.get(f"{listening.rsplit(' ', 1)[1]}/_emulator/state", timeout=5).json()
            assert set(state["rules"]) == rules and "mine" in state["jobs"]
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_shipped_demo_file_is_the_documented_sample():
    config = demo_config()
    assert set(config) <= set(CONFIG_KEYS) and {rule["rule_id"] for rule in config["rules"]} == DEMO_RULES


BAD_CONFIGS = [
    ({"rule": []}, "rule: is not a known key (known: rules, jobs, check_tasks, users, history), got []"),
    ({"rules": {"rule_id": "1"}}, "rules: must be a list, got {'rule_id': '1'}"),
    ({"rules": [{"name": "x"}]}, "rules[0].rule_id: is required, got None"),
    (
        {"rules": [{"rule_id": "1", "outcome": "SUCCESS"}]},
        "rules[0].outcome: is not a known key (known: duration, name, outcomes, rule_id, rule_type), got 'SUCCESS'",
    ),
    (
        {"rules": [{"rule_id": "1", "outcomes": ["OK"]}]},
        "rules[0].outcomes: must be a non-empty list of SUCCESS, FAILED, ALARMING, got ['OK']",
    ),
    (
        {"rules": [{"rule_id": "1", "rule_type": 3}]},
        "rules[0].rule_type: must be 1 (quality job) or 2 (comparison job), got 3",
    ),
    (
        {"rules": [{"rule_id": "1", "duration": "2s"}]},
        "rules[0].duration: must be a number of seconds, 0 or more, got '2s'",
    ),
    ({"jobs": ["a", 2]}, "jobs[1]: must be a job name (a non-empty string), got 2"),
    ({"users": [{"domain": "d", "name": "n"}]}, "users[0].password: is required, got None"),
    (
        {"history": [{"rule_id": "9", "count": 5}]},
        "history[0].rule_id: must be the rule_id of a rule in this config, got '9'",
    ),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS, ids=[m.split(":")[0] for _, m in BAD_CONFIGS])
def test_a_bad_config_names_the_key_and_loads_nothing(config, message):
    with Emulator(demo=False) as emulator:
        with pytest.raises(EmulatorConfigError) as info:
            emulator.service.load({"jobs": ["first"], **config})
        assert str(info.value) == message
        assert emulator.service.jobs == {}
        answer = requests.post(f"{emulator.url}/_emulator/config", json=config, timeout=5)
        assert (answer.status_code, answer.json()) == (400, {"error": f"config {message}"})


def test_a_bad_config_file_is_a_message_not_a_traceback(tmp_path):
    config = tmp_path / "rules.json"
    config.write_text(json.dumps({"rules": [{"rule_id": "1", "outcomes": ["OK"]}]}))
    done = subprocess.run([*EMULATOR_CLI, "--port", "0", "--config", str(config)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"python -m airflow_provider_dataarts.emulator: error: --config {config}: "
        "rules[0].outcomes: must be a non-empty list of SUCCESS, FAILED, ALARMING, got ['OK']"
    )
    config.write_text("{")
    done = subprocess.run([*EMULATOR_CLI, "--port", "0", "--config", str(config)], capture_output=True, text=True)
    assert done.returncode == 2 and f"--config {config}: not valid JSON: " in done.stderr


def test_holds_hundreds_of_concurrent_keep_alive_connections(emu):
    """Each socket sends a request, reads the answer and stays open, so all are held at once."""
    host, port = urlsplit(emu.url).hostname, urlsplit(emu.url).port
    request = b"GET /_emulator/state HTTP/1.1\r\nHost: x\r\n\r\n"
    sockets = []
    try:
        for _ in range(400):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(request)
            sockets.append(sock)
        for sock in sockets:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert emu.open_connections == 400
        # Still one round trip per request on each of them.
        for sock in sockets[:50]:
            sock.sendall(request)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()


def test_serves_concurrent_clients_from_threads(emu):
    errors = []

    def client():
        try:
            for _ in range(20):
                assert send(emu, "GET", quality(emu, "/instances")).status_code == 200
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and emu.service.calls["quality_list"] == 400


def test_fault_can_let_the_first_requests_through(emu):
    emu.service.add_fault(path="/instances$", status=503, times=1, skip=2)
    assert [send(emu, "GET", quality(emu, "/instances")).status_code for _ in range(4)] == [200, 200, 503, 200]
