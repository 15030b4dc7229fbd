"""The fault matrix: every operator and the sensor, through real Airflow, under every injected fault.

Each cell runs one task with ``dag.test()`` against a fresh emulator whose fault hits the
task's main call, and asserts the outcome: success after exactly N tries, or failure with
``DataArtsApiError`` naming the status and error code; never a second rerun or start; never
a hang (pytest-timeout). ``render_matrix()`` is the table in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_provider_dataarts.emulator import Fault
from airflow_provider_dataarts.hooks.dataarts import DataArtsHook
from airflow_provider_dataarts.operators.check import CheckTaskStopOperator
from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator, FactoryJobStopOperator
from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor
from airflow_provider_dataarts.transport import TOKENS
from tests.conftest import make_dag

RULE = "1200372516590559232"
RETRY_LIMIT = 3
HOOK = {"retry_limit": RETRY_LIMIT, "retry_delay": 0.01, "retry_max_delay": 0.05}
READ_TIMEOUT = 0.4
LIST = r"/quality/instances$"


@dataclass(frozen=True)
class Target:
    """One operator (or mode) and the call the fault hits."""

    path: str
    idempotent: bool
    waits: bool = False  # the fault hits its polling, after it started something


TARGETS = {
    "QualityJobActionOperator": Target(r"/quality-tasks/action$", True),
    "RerunQualityOperator": Target(r"/instances/restart$", False),
    "RerunQualityOperator wait (worker)": Target(LIST, True, waits=True),
    "RerunQualityOperator wait (deferred)": Target(LIST, True, waits=True),
    "QualityInstanceSensor poke": Target(LIST, True, waits=True),
    "QualityInstanceSensor deferrable": Target(LIST, True, waits=True),
    "FactoryJobStartOperator": Target(r"/jobs/load/start$", False),
    "FactoryJobStopOperator": Target(r"/jobs/load/stop$", True),
    "CheckTaskStopOperator": Target(r"/v2/tasks/c1/stop$", True),
}

SHORT, LONG = RETRY_LIMIT - 1, RETRY_LIMIT  # bursts inside and beyond the retry budget
FAULTS = {
    "500": {"status": 500, "times": 1},
    **{f"{code} x{n}": {"status": code, "times": n} for code in (502, 503, 504) for n in (SHORT, LONG)},
    **{f"429 x{n} Retry-After": {"status": 429, "times": n, "retry_after": 0.05} for n in (SHORT, LONG)},
    "dropped connection": {"drop": "after", "times": 1},
    "slower than read timeout": {"latency": READ_TIMEOUT + 0.6, "times": 1},
    "malformed JSON": {"malformed": True, "times": 1},
    "non-JSON 502 page x3": {"status": 502, "times": LONG, "body": "<html><body>502 Bad Gateway</body></html>"},
    "401 expired token": {},  # password auth; every issued token is forgotten before the run
}


def expected(target: Target, fault: str) -> tuple[str, int, str]:
    """(outcome, tries of the faulted call, what the failure must say) for one cell."""
    spec = FAULTS[fault]
    status = spec.get("status")
    if fault == "401 expired token":
        return "success", 2, ""
    if status is not None:
        retryable = status in (429, 502, 503, 504) and (target.idempotent or status in (429, 503))
        if retryable and spec["times"] < RETRY_LIMIT:
            return "success", spec["times"] + 1, ""
        tries = RETRY_LIMIT if retryable else 1
        code = "" if "body" in spec else f" EMU.{status}"
        return "failed", tries, f"failed with HTTP {status}{code}"
    if spec.get("malformed"):
        return "failed", 1, "failed with HTTP 200: the answer is not valid JSON"
    # dropped or too slow: the call may have reached the server
    return ("success", 2, "") if target.idempotent else ("failed", 1, "failed with no response")


def build_task(name: str, instance_id: str | None):
    common = {"task_id": "task", "hook_params": HOOK}
    wait = {"wait_for_completion": True, "poll_interval": 0.1}
    sensor = {"instance_id": instance_id, "rule_type": 1, "poke_interval": 0.1, "timeout": 30}
    return {
        "QualityJobActionOperator": lambda: QualityJobActionOperator(rule_id=RULE, action="start", **common),
        "RerunQualityOperator": lambda: RerunQualityOperator(rule_id=RULE, **common),
        "RerunQualityOperator wait (worker)": lambda: RerunQualityOperator(rule_id=RULE, **wait, **common),
        "RerunQualityOperator wait (deferred)": lambda: RerunQualityOperator(
            rule_id=RULE, deferrable=True, **wait, **common
        ),
        "QualityInstanceSensor poke": lambda: QualityInstanceSensor(mode="poke", **sensor, **common),
        "QualityInstanceSensor deferrable": lambda: QualityInstanceSensor(deferrable=True, **sensor, **common),
        "FactoryJobStartOperator": lambda: FactoryJobStartOperator(job_name="load", job_params={"a": "1"}, **common),
        "FactoryJobStopOperator": lambda: FactoryJobStopOperator(job_name="load", **common),
        "CheckTaskStopOperator": lambda: CheckTaskStopOperator(check_task_id="c1", **common),
    }[name]()


CELLS = [(t, f) for t in TARGETS for f in FAULTS]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("target_name", "fault"), CELLS, ids=[f"{t}-{f}" for t, f in CELLS])
def test_fault_cell(run_dag, emulator, monkeypatch, target_name, fault):
    target = TARGETS[target_name]
    service = emulator.service
    service.add_rule(RULE, outcomes=["SUCCESS"], duration=0.3)
    service.add_job("load")
    service.add_check_task("c1")
    conn = emulator.connection(timeout=[1, READ_TIMEOUT])
    instance_id = None
    if target_name.startswith("QualityInstanceSensor"):
        instance_id = DataArtsHook(**HOOK).rerun_quality_job(RULE)
    if fault == "401 expired token":
        TOKENS._tokens.clear()
        service.users[("acme", "airflow")] = "IamPassw0rd!"
        conn.update(login="airflow", password="IamPassw0rd!")
        conn["extra"].update(auth_type="password", domain_name="acme")
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
        DataArtsHook(**HOOK).list_quality_instances()  # a token is cached in this process...
        service.tokens.clear()  # ...and the service forgets it: the task's first call gets 401
    else:
        monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
        # RerunQualityOperator looks its run up once right after the rerun (a hint it may do
        # without); the fault is for the wait's polling, so that first lookup goes through.
        skip = 1 if target.waits and target_name.startswith("RerunQualityOperator") else 0
        service.add_fault(Fault(path=target.path, skip=skip, **FAULTS[fault]))
    before = len([e for e in service.log if re.search(target.path, e["path"])]) + (
        1 if target.waits and target_name.startswith("RerunQualityOperator") and fault != "401 expired token" else 0
    )
    first_request = len(service.log)

    with make_dag(re.sub(r"\W+", "_", f"faults {target_name} {fault}")) as dag:
        build_task(target_name, instance_id)
    result = run_dag(dag)

    outcome, tries, message = expected(target, fault)
    seen = [e for e in service.log if re.search(target.path, e["path"])][before:]
    assert result.states == {"task": outcome}, result.error("task")
    if outcome == "failed":
        assert result.error("task").startswith("DataArtsApiError: ") and message in result.error("task")
        assert len(seen) == tries  # exactly that many tries, then it gave up
    else:
        assert len(seen) >= tries  # waiting tasks go on polling after the faulted call
        statuses = ["ok" if e["status"] < 300 else e["status"] for e in seen]
        if fault == "401 expired token":  # the task's first call, whichever it is, is refused once
            first, second = [e["status"] for e in list(service.log)[first_request : first_request + 2]]
            assert first == 401 and second < 300
            assert service.calls["iam_token"] == 2  # one refresh, then on
        elif "status" in FAULTS[fault]:
            assert statuses[:tries] == [FAULTS[fault]["status"]] * (tries - 1) + ["ok"]
    # Whatever happened, nothing was started twice.
    assert service.calls["quality_rerun"] <= 1
    assert service.jobs["load"].starts <= 1


def render_matrix() -> str:
    rows = ["| operator | " + " | ".join(FAULTS) + " |", "|---" * (len(FAULTS) + 1) + "|"]
    for name, target in TARGETS.items():
        cells = []
        for fault in FAULTS:
            outcome, tries, _ = expected(target, fault)
            cells.append(f"ok after {tries} tries" if outcome == "success" else f"fails after {tries}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def test_reliability_doc_shows_the_matrix_the_tests_assert():
    doc = (Path(__file__).parent.parent / "docs" / "RELIABILITY.md").read_text()
    assert render_matrix() in doc, (
        "regenerate with: python -c 'from tests.test_faults import render_matrix as r; print(r())'"
    )
