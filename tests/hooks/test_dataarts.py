"""DataArtsHook over real HTTP against the emulator: every call, errors, retries, auth."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import pytest

from airflow_provider_dataarts.emulator import DEFAULT_AK, DEFAULT_SK, DEFAULT_WORKSPACE, Emulator
from airflow_provider_dataarts.exceptions import DataArtsApiError
from airflow_provider_dataarts.hooks.dataarts import CANCEL_RUN, DataArtsHook
from airflow_provider_dataarts.transport import TOKENS

FAST = {"retry_limit": 4, "retry_delay": 0.01, "retry_max_delay": 0.05}


@pytest.fixture
def hook(emulator):
    emulator.service.add_rule("1200372516590559232", "orders_not_null", outcomes=["SUCCESS"], duration=0.2)
    emulator.service.add_rule("1440764172232392705", "orders_vs_dw", rule_type=2, outcomes=["ALARMING"], duration=0.2)
    emulator.service.add_job("myJob")
    emulator.service.add_check_task("2b31ed520a1c4bd6aebedb6e57a8c9d0")
    return DataArtsHook(**FAST)


def requests_to(emulator, pattern):
    """What the emulator received on paths matching ``pattern`` (a regular expression), in order."""
    return [entry for entry in emulator.service.log if re.search(pattern, entry["path"])]


# -- every call ------------------------------------------------------------------------


def test_quality_job_action_sends_rule_id_as_string(hook, emulator):
    assert "started" in hook.quality_job_action(1200372516590559232, "start")
    assert emulator.service.rules["1200372516590559232"].scheduling == "started"
    hook.quality_job_action("1200372516590559232", "stop")
    assert emulator.service.rules["1200372516590559232"].scheduling == "stopped"
    assert emulator.service.calls["quality_action"] == 2


def test_rerun_then_lookup_until_finished(hook, emulator):
    started = int(time.time() * 1000)
    instance_id = hook.rerun_quality_job("1200372516590559232", rule_type=1)
    assert isinstance(instance_id, str) and len(instance_id) == 19
    instance = hook.get_quality_instance(instance_id, rule_type=1, started_after=started)
    assert instance["run_status"] == "RUNNING"
    assert str(instance["id"]) == instance_id
    time.sleep(0.25)
    assert hook.get_quality_instance(instance_id, rule_type=1, started_after=started)["run_status"] == "SUCCESS"
    result = hook.get_quality_instance_result(instance_id)
    assert result["count"] == 2 and result["resources"][0]["sub_rule_id"]


def test_comparison_job_rerun(hook, emulator):
    instance_id = hook.rerun_quality_job("1440764172232392705", rule_type=2)
    time.sleep(0.25)
    assert hook.get_quality_instance(instance_id, rule_type=2)["run_status"] == "ALARMING"


def test_lookup_with_a_window_costs_one_request_among_ten_thousand_runs(hook, emulator):
    emulator.service.add_history("1200372516590559232", 10_000)
    started = int(time.time() * 1000)
    instance_id = hook.rerun_quality_job("1200372516590559232")
    before = len(requests_to(emulator, "/quality/instances$"))
    assert hook.get_quality_instance(instance_id, rule_type=1, started_after=started) is not None
    assert len(requests_to(emulator, "/quality/instances$")) - before == 1


def test_lookup_without_a_window_pages_through_everything(hook, emulator):
    emulator.service.add_history("1200372516590559232", 250)
    oldest = min(emulator.service.instances)
    assert hook.get_quality_instance(str(oldest))["id"] == oldest
    assert len(requests_to(emulator, "/quality/instances$")) == 3  # 100 + 100 + 50


def test_unknown_instance_is_none(hook, emulator):
    assert hook.get_quality_instance("123", started_after=int(time.time() * 1000)) is None


def test_cancel_running_instance(hook, emulator):
    emulator.service.rules["1200372516590559232"].duration = 60
    instance_id = hook.rerun_quality_job("1200372516590559232")
    hook.cancel_quality_instance(instance_id)
    assert hook.get_quality_instance(instance_id)["run_status"] == "FAILED"
    sent = [e for e in emulator.service.log if e["method"] == "PUT"]
    assert sent[0]["path"].endswith(f"/quality/instances/{instance_id}")
    assert CANCEL_RUN is False  # Huawei's page: false means cancel


def test_factory_start_and_stop(hook, emulator):
    hook.start_factory_job("myJob", {"date": "2026-11-24", "retries": 3})
    job = emulator.service.jobs["myJob"]
    assert job.state == "RUNNING"
    assert job.last_params == [{"name": "date", "value": "2026-11-24"}, {"name": "retries", "value": "3"}]
    hook.stop_factory_job("myJob")
    assert job.state == "STOPPED" and job.starts == 1 and job.stops == 1


def test_factory_job_params_as_api_list(hook, emulator):
    hook.start_factory_job("myJob", [{"name": "a", "value": "1"}])
    assert emulator.service.jobs["myJob"].last_params == [{"name": "a", "value": "1"}]


def test_factory_unknown_job_is_dlf_0100(hook):
    with pytest.raises(DataArtsApiError) as info:
        hook.start_factory_job("noSuchJob")
    error = info.value
    assert (error.status, error.error_code, error.error_msg) == (400, "DLF.0100", "The job does not exists.")
    assert "HTTP 400 DLF.0100" in str(error) and "/jobs/noSuchJob/start" in str(error)


def test_check_task_stop(hook, emulator):
    hook.stop_check_task("2b31ed520a1c4bd6aebedb6e57a8c9d0")
    assert emulator.service.check_tasks["2b31ed520a1c4bd6aebedb6e57a8c9d0"] == "STOPPED"
    sent = requests_to(emulator, "/v2/tasks/")[0]
    assert sent["path"] == "/v2/tasks/2b31ed520a1c4bd6aebedb6e57a8c9d0/stop"


def test_job_name_is_percent_encoded(hook, emulator):
    emulator.service.add_job("daily load ?#%ü")
    hook.start_factory_job("daily load ?#%ü")
    assert (
        requests_to(emulator, "/jobs/")[-1]["path"]
        == f"/v1/{emulator.service.project_id}/jobs/daily%20load%20%3F%23%25%C3%BC/start"
    )
    assert emulator.service.jobs["daily load ?#%ü"].starts == 1


def test_test_connection(hook, emulator):
    ok, message = hook.test_connection()
    assert ok and "workspace" in message


def test_test_connection_reports_a_wrong_workspace(emulator):
    ok, message = DataArtsHook(workspace="nosuchworkspace", **FAST).test_connection()
    assert not ok and "DQC.1002" in message


def test_wrong_secret_key_is_a_401(emulator, monkeypatch):
    conn = emulator.connection()
    conn["password"] = "wrong"
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    with pytest.raises(DataArtsApiError) as info:
        DataArtsHook(**FAST).list_quality_instances()
    assert info.value.status == 401 and info.value.error_code == "APIGW.0301"
    assert "wrong" not in str(info.value)


# -- sessions, retries and the no-duplicate rule ----------------------------------------


def test_one_keep_alive_connection_for_many_calls(hook, emulator):
    for _ in range(20):
        hook.list_quality_instances()
    assert emulator.server.peak_connections == 1


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_transient_statuses_are_retried_for_reads(hook, emulator, status):
    emulator.service.add_fault(path="/quality/instances$", status=status, times=2)
    assert hook.list_quality_instances()["count"] == 0
    assert [e["status"] for e in requests_to(emulator, "/quality/instances$")] == [status, status, 200]


def test_retry_budget_exhausted_raises_the_last_error(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", status=503, times=None)
    with pytest.raises(DataArtsApiError) as info:
        hook.list_quality_instances()
    assert info.value.status == 503 and info.value.error_code == "EMU.503"
    assert len(requests_to(emulator, "/quality/instances$")) == FAST["retry_limit"]


def test_500_is_not_retried(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", status=500, times=1)
    with pytest.raises(DataArtsApiError, match="HTTP 500"):
        hook.list_quality_instances()
    assert len(requests_to(emulator, "/quality/instances$")) == 1


def test_retry_after_is_honoured(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", status=429, retry_after=0.3, times=1)
    hook = DataArtsHook(retry_limit=3, retry_delay=0.0, retry_max_delay=5)
    started = time.monotonic()
    hook.list_quality_instances()
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("status", [429, 503])
def test_rerun_is_retried_when_the_server_did_not_act(hook, emulator, status):
    emulator.service.add_fault(path="/restart$", status=status, times=2)
    hook.rerun_quality_job("1200372516590559232")
    assert len(requests_to(emulator, "/restart")) == 3
    assert emulator.service.calls["quality_rerun"] == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_rerun_is_not_retried_when_the_server_may_have_acted(hook, emulator, status):
    emulator.service.add_fault(path="/restart$", status=status, times=1)
    with pytest.raises(DataArtsApiError, match=f"HTTP {status}"):
        hook.rerun_quality_job("1200372516590559232")
    assert len(requests_to(emulator, "/restart")) == 1


def test_rerun_is_not_retried_after_a_read_timeout(emulator, monkeypatch):
    emulator.service.add_rule("7", outcomes=["SUCCESS"])
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", emulator.connection_json(timeout=[1, 0.3]))
    emulator.service.add_fault(path="/restart$", latency=1.0, times=None)
    with pytest.raises(DataArtsApiError, match="no response"):
        DataArtsHook(**FAST).rerun_quality_job("7")
    time.sleep(0.8)
    assert emulator.service.calls["quality_rerun"] == 1


def test_factory_start_is_not_retried_after_a_dropped_connection(hook, emulator):
    emulator.service.add_fault(path="/start$", drop="after", times=None)
    with pytest.raises(DataArtsApiError, match="no response"):
        hook.start_factory_job("myJob")
    assert emulator.service.jobs["myJob"].starts == 1


def test_reads_are_retried_after_a_dropped_connection(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", drop="before", times=2)
    assert hook.list_quality_instances()["count"] == 0
    assert emulator.service.calls["quality_list"] == 1


def test_connection_refused_is_retried_even_for_a_rerun(emulator, monkeypatch, caplog):
    conn = emulator.connection()
    conn["host"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    with caplog.at_level(logging.WARNING), pytest.raises(DataArtsApiError) as info:
        DataArtsHook(**FAST).rerun_quality_job("1")
    assert info.value.status is None and info.value.reached_server is False
    assert len([r for r in caplog.records if "retrying in" in r.getMessage()]) == FAST["retry_limit"] - 1


def test_non_json_error_body_gives_a_clear_error(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", status=500, body="<html>Internal Error</html>")
    with pytest.raises(DataArtsApiError) as info:
        hook.list_quality_instances()
    assert info.value.error_code is None and info.value.error_msg == "<html>Internal Error</html>"


def test_malformed_success_body_gives_a_clear_error(hook, emulator):
    emulator.service.add_fault(path="/restart$", malformed=True)
    with pytest.raises(DataArtsApiError, match="not valid JSON"):
        hook.rerun_quality_job("1200372516590559232")


# -- IAM tokens ----------------------------------------------------------------------------


@pytest.fixture
def password_conn(monkeypatch):
    TOKENS._tokens.clear()

    def use(emulator, **extra):
        emulator.service.users[("acme", "airflow")] = "IamPassw0rd!"
        conn = emulator.connection(auth_type="password", domain_name="acme", **extra)
        conn.update(login="airflow", password="IamPassw0rd!")
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))

    yield use
    TOKENS._tokens.clear()


def test_password_auth_token_is_cached_across_hooks(hook, emulator, password_conn):
    password_conn(emulator)
    for _ in range(3):
        DataArtsHook(**FAST).list_quality_instances()
    assert emulator.service.calls["iam_token"] == 1
    assert emulator.service.calls["quality_list"] == 3


def test_token_is_refreshed_before_it_expires(emulator, password_conn):
    emulator.service.token_ttl = 1.0
    password_conn(emulator)
    DataArtsHook(**FAST).list_quality_instances()
    time.sleep(1.0)
    DataArtsHook(**FAST).list_quality_instances()
    assert emulator.service.calls["iam_token"] == 2
    assert not [e for e in emulator.service.log if e["status"] == 401]


def test_token_refused_with_401_is_refreshed_once(emulator, password_conn):
    password_conn(emulator)
    hook = DataArtsHook(**FAST)
    hook.list_quality_instances()
    emulator.service.tokens.clear()  # the service forgets every token it issued
    hook.list_quality_instances()
    assert emulator.service.calls["iam_token"] == 2
    assert [e["status"] for e in requests_to(emulator, "/quality/instances$")] == [200, 401, 200]


def test_wrong_iam_password(emulator, password_conn):
    password_conn(emulator)
    emulator.service.users[("acme", "airflow")] = "changed"
    with pytest.raises(DataArtsApiError) as info:
        DataArtsHook(**FAST).list_quality_instances()
    assert info.value.service == "iam" and info.value.status == 401
    assert "IamPassw0rd!" not in str(info.value)


def test_ready_made_token(emulator, monkeypatch):
    emulator.service.tokens["READY-TOKEN-123456"] = float("inf")
    conn = emulator.connection(auth_type="token")
    conn.update(login=None, password="READY-TOKEN-123456")
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0


def test_temporary_aksk_sends_the_security_token(monkeypatch):
    with Emulator(temporary_keys={"TMPAK": ("TMPSK", "SECURITY-TOKEN-XYZ")}) as emulator:
        conn = emulator.connection(security_token="SECURITY-TOKEN-XYZ")
        conn.update(login="TMPAK", password="TMPSK")
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
        assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0
        conn["extra"]["security_token"] = "WRONG-TOKEN"
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
        with pytest.raises(DataArtsApiError, match="security token"):
            DataArtsHook(**FAST).list_quality_instances()


# -- async twins ---------------------------------------------------------------------------


def test_async_twins(hook, emulator):
    emulator.service.rules["1200372516590559232"].duration = 60
    started = int(time.time() * 1000)
    instance_id = hook.rerun_quality_job("1200372516590559232")

    async def scenario():
        ahook = DataArtsHook(**FAST)
        running = await ahook.aget_quality_instance(instance_id, rule_type=1, started_after=started)
        await ahook.acancel_quality_instance(instance_id)
        cancelled = await ahook.aget_quality_instance(instance_id, rule_type=1, started_after=started)
        result = await ahook.aget_quality_instance_result(instance_id)
        return running["run_status"], cancelled["run_status"], result["count"]

    assert asyncio.run(scenario()) == ("RUNNING", "FAILED", 2)


def test_async_retries_follow_the_same_policy(hook, emulator):
    emulator.service.add_fault(path="/quality/instances$", status=503, times=2)
    instance_id = hook.rerun_quality_job("1200372516590559232")
    found = asyncio.run(DataArtsHook(**FAST).aget_quality_instance(instance_id))
    assert str(found["id"]) == instance_id
    assert [e["status"] for e in requests_to(emulator, "/quality/instances$")] == [503, 503, 200]


def test_async_password_auth_fetches_one_token_for_many_concurrent_waits(emulator, password_conn):
    password_conn(emulator)

    async def many():
        await asyncio.gather(*(DataArtsHook(**FAST).aget_quality_instance("1") for _ in range(50)))

    asyncio.run(many())
    assert emulator.service.calls["iam_token"] == 1
    assert emulator.service.calls["quality_list"] == 50


def test_a_seen_instance_is_found_with_one_request_among_many_runs_started_together(hook, emulator):
    started = int(time.time() * 1000)
    ids = [hook.rerun_quality_job("1200372516590559232") for _ in range(250)]
    first = hook.get_quality_instance(ids[0], rule_type=1, started_after=started)  # the oldest: last page
    before = len(requests_to(emulator, "/quality/instances$"))
    again = hook.get_quality_instance(ids[0], rule_type=1, started_after=started, seen=first)
    assert again["id"] == first["id"]
    assert len(requests_to(emulator, "/quality/instances$")) - before == 1


def test_requests_say_who_sends_them(hook, emulator):
    captured = {}
    original = emulator.service.handle

    def spy(request):
        captured.update(request.headers)
        return original(request)

    emulator.service.handle = spy
    hook.list_quality_instances()
    assert captured["user-agent"].startswith("airflow-provider-dataarts/")
    assert "user-agent" in captured["authorization"]  # signed, as the official SDK signs its own


def test_a_hanging_endpoint_does_not_hold_up_async_calls_to_another(emulator, monkeypatch):
    """Trigger polls share one loop: each origin has its own pool and in-flight slots."""
    with Emulator() as fast:
        monkeypatch.setenv("AIRFLOW_CONN_FAST", fast.connection_json())
        emulator.service.add_fault(path="/quality/instances$", latency=3.0, times=20)

        async def both() -> float:
            slow = [asyncio.ensure_future(DataArtsHook(**FAST).aget_quality_instance("1")) for _ in range(8)]
            await asyncio.sleep(0.3)  # the slow origin's slots are all taken now
            began = time.monotonic()
            assert await DataArtsHook(dataarts_conn_id="fast", **FAST).aget_quality_instance("1") is None
            elapsed = time.monotonic() - began
            await asyncio.gather(*slow)
            return elapsed

        assert asyncio.run(both()) < 2.0  # not queued behind the 3 s answers
        assert fast.service.calls["quality_list"] == 1


# -- the connection's host and port ------------------------------------------------------------


def _uri(emulator, host, scheme=""):
    """The connection as an Airflow URI: ``dataarts://[scheme://]AK:SK@host:port?extras``."""
    from urllib.parse import urlencode

    query = urlencode(
        {"region": "cn-north-4", "project_id": emulator.service.project_id, "workspace": DEFAULT_WORKSPACE}
    )
    return f"dataarts://{scheme}{DEFAULT_AK}:{DEFAULT_SK}@{host}?{query}"


def test_a_uri_connection_keeps_its_port(emulator, monkeypatch):
    """Airflow's URI form puts the scheme after the connection type and the port in Port."""
    port = emulator.server.port
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", _uri(emulator, f"127.0.0.1:{port}", "http://"))
    hook = DataArtsHook(**FAST)
    assert hook.transport.config.endpoint("quality") == f"http://127.0.0.1:{port}"
    assert hook.list_quality_instances()["count"] == 0


def test_a_json_connection_with_a_port_field(emulator, monkeypatch):
    conn = {**emulator.connection(), "host": "http://127.0.0.1", "port": emulator.server.port}
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    assert DataArtsHook(**FAST).list_quality_instances()["count"] == 0


def test_a_port_that_contradicts_the_host_is_refused(emulator, monkeypatch):
    conn = {**emulator.connection(), "host": "http://127.0.0.1:1234", "port": 5678}
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    with pytest.raises(ValueError) as info:
        DataArtsHook(**FAST).list_quality_instances()
    assert (
        str(info.value) == "connection host 'http://127.0.0.1:1234' names port 1234 but the connection's port is 5678"
    )


@pytest.mark.parametrize("form", ["json", "uri"])
def test_a_host_without_scheme_fails_at_once_saying_how_to_write_it(emulator, monkeypatch, form):
    port = emulator.server.port
    if form == "json":
        value = json.dumps({**emulator.connection(), "host": f"127.0.0.1:{port}"})
    else:
        value = _uri(emulator, f"127.0.0.1:{port}")
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", value)
    started = time.monotonic()
    with pytest.raises(ValueError) as info:
        DataArtsHook(**FAST).list_quality_instances()
    assert time.monotonic() - started < 2  # not a TLS handshake waiting out the read timeout
    given = f"127.0.0.1:{port}" if form == "json" else "127.0.0.1"
    assert str(info.value) == (
        f"connection host must start with http:// or https://, got {given!r}: write it as https://127.0.0.1:{port} "
        f"(or http://127.0.0.1:{port} for a plain-HTTP server such as the emulator); in a connection URI the "
        f"scheme goes after the connection type: dataarts://http://AK:SK@127.0.0.1:{port}?..."
    )
    assert not emulator.service.log
