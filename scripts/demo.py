"""The demo: run every example DAG through real Airflow against the bundled DataArts emulator.

``make demo`` runs this inside the project's venv. It starts the emulator on a free
port of 127.0.0.1, points ``dataarts_default`` at it through an
``AIRFLOW_CONN_DATAARTS_DEFAULT`` JSON variable, migrates a fresh SQLite metadata DB
under ``.demo/``, checks the example DAGs import cleanly, runs each one with
``airflow dags test``, prints what every task did and what the emulator saw, and
stops the emulator. No cloud account and no network beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from airflow_provider_dataarts.emulator import connection_for

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
DAGS = ROOT / "airflow_provider_dataarts" / "example_dags"
EXAMPLES = [
    "example_dataarts_quality",
    "example_dataarts_factory",
    "example_dataarts_check",
    "example_dataarts_manual_rerun",
]


def airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=os.environ, check=check, capture_output=True, text=True
    )


def last_json(result: subprocess.CompletedProcess):
    """The JSON a CLI command printed on its last line (warnings may come before it)."""
    return json.loads(result.stdout.strip().splitlines()[-1])


def emulator_get(url: str, what: str):
    with urllib.request.urlopen(f"{url}/_emulator/{what}", timeout=10) as answer:
        return json.load(answer)


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_dataarts.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip()  # "DataArts emulator listening on http://127.0.0.1:PORT"
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1]


def task_report(dag_id: str) -> list[tuple[str, str, str]]:
    """(task, state, what it left in XCom) for the DAG's latest run, read from the metadata DB."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:
        run_id = session.execute(
            text("SELECT run_id FROM dag_run WHERE dag_id = :d ORDER BY id DESC LIMIT 1"), {"d": dag_id}
        ).scalar()
        tasks = session.execute(
            text("SELECT task_id, state FROM task_instance WHERE dag_id = :d AND run_id = :r ORDER BY start_date"),
            {"d": dag_id, "r": run_id},
        ).all()
        rows = []
        for task_id, state in tasks:
            xcoms = dict(
                session.execute(
                    text("SELECT key, value FROM xcom WHERE dag_id = :d AND run_id = :r AND task_id = :t"),
                    {"d": dag_id, "r": run_id, "t": task_id},
                ).all()
            )
            detail = []
            if "return_value" in xcoms:
                detail.append(f"returned {json.loads(xcoms['return_value'])}")
            if "instance" in xcoms:
                instance = json.loads(xcoms["instance"])
                detail.append(f"instance {instance['id']} ended {instance['run_status']}")
            rows.append((task_id, state, "; ".join(detail)))
        return rows


def main() -> int:
    began = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "home").mkdir(parents=True)
    os.environ.update(
        AIRFLOW_HOME=str(WORK / "home"),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    emulator, url = start_emulator()
    print(f"Emulator: {url} (started by this demo, stopped at the end)")
    try:
        os.environ["AIRFLOW_CONN_DATAARTS_DEFAULT"] = json.dumps(connection_for(url))
        airflow("db", "migrate")
        airflow("dags", "reserialize")  # parse the DAGs folder into the DB, as a DAG processor would
        errors = last_json(airflow("dags", "list-import-errors", "-o", "json"))
        parsed = {dag["dag_id"] for dag in last_json(airflow("dags", "list", "-o", "json"))}
        if errors or not set(EXAMPLES) <= parsed:
            print(f"The example DAGs do not import cleanly: {errors or sorted(set(EXAMPLES) - parsed)}")
            return 1
        print(f"{len(EXAMPLES)} example DAGs parsed from {DAGS.relative_to(ROOT)}, no import errors\n")

        outcomes = {}
        for dag_id in EXAMPLES:
            calls_before = emulator_get(url, "state")["calls"]
            started = time.monotonic()
            run = airflow("dags", "test", dag_id, check=False)
            elapsed = time.monotonic() - started
            calls = {k: v - calls_before.get(k, 0) for k, v in emulator_get(url, "state")["calls"].items()}
            ok = run.returncode == 0
            outcomes[dag_id] = ok
            print(f"== {dag_id}: {'success' if ok else 'FAILED'} in {elapsed:.1f} s")
            for task_id, state, detail in task_report(dag_id):
                print(f"   {task_id:<26} {state:<8} {detail}")
            print("   API calls: " + ", ".join(f"{name} x{count}" for name, count in sorted(calls.items()) if count))
            if not ok:
                print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            print()

        state = emulator_get(url, "state")
        print("What the emulator saw:")
        for instance in sorted(state["instances"], key=lambda i: i["start_time"]):
            print(
                f"   quality instance {instance['id']} ({instance['name']}, {instance['task_type']}): "
                f"{instance['run_status']}"
            )
        for name, job in state["jobs"].items():
            params = ", ".join(f"{p['name']}={p['value']}" for p in job["last_params"])
            print(
                f"   factory job {name}: {job['state']} (started {job['starts']}x, stopped {job['stops']}x)"
                + (f", last parameters: {params}" if params else "")
            )
        for task_id, status in state["check_tasks"].items():
            print(f"   check task {task_id}: {status}")
        rejected = [entry for entry in emulator_get(url, "log") if entry["status"] == 401]
        print(
            f"   requests: {len(emulator_get(url, 'log'))}, rejected as unauthenticated: {len(rejected)}, "
            f"peak open connections: {state['peak_connections']}"
        )
        passed = sum(outcomes.values())
        print(f"\nDemo: {passed} of {len(outcomes)} example DAGs succeeded in {time.monotonic() - began:.1f} s")
        return 0 if passed == len(outcomes) else 1
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
