"""What README.md shows a DAG author is what they get: its messages and lines are produced here for real."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_provider_dataarts.emulator import DEFAULT_PROJECT_ID
from airflow_provider_dataarts.emulator.service import demo_config
from airflow_provider_dataarts.exceptions import DataArtsApiError
from airflow_provider_dataarts.hooks.dataarts import DataArtsHook
from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, raise_not_listed
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor
from airflow_provider_dataarts.transport import ConnectionConfig

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EMULATOR_CLI = [sys.executable, "-m", "airflow_provider_dataarts.emulator"]
CHECK_TASK = demo_config()["check_tasks"][0]
COMPARISON_RULE = next(rule["rule_id"] for rule in demo_config()["rules"] if rule["rule_type"] == 2)


def shown(error: BaseException) -> str:
    """An exception as README shows it: ``Type: message``."""
    return f"{type(error).__name__}: {error}"


def test_the_emulator_connection_line_is_the_one_it_prints():
    printed = subprocess.run([*EMULATOR_CLI, "--print-connection"], capture_output=True, text=True, check=True)
    line = f"export AIRFLOW_CONN_DATAARTS_DEFAULT={shlex.quote(printed.stdout.strip())}"
    assert f"\n{line}\n" in README


def test_a_literal_mistake(emulator):
    with pytest.raises(ValueError) as info:
        QualityJobActionOperator(task_id="schedule", rule_id="1", action="restart")
    assert f"\n{shown(info.value)}\n" in README


def test_an_id_a_failed_xcom_pull_rendered():
    sensor = QualityInstanceSensor(task_id="verdict", instance_id="{{ ti.xcom_pull(task_ids='rerun') }}")
    sensor.instance_id = "None"  # what that template renders when the task pushed nothing
    with pytest.raises(ValueError) as info:
        sensor.poke({})
    assert f"\n{shown(info.value)}\n" in README


def test_an_unknown_job(emulator):
    assert emulator.service.project_id == DEFAULT_PROJECT_ID
    with pytest.raises(DataArtsApiError) as info:
        DataArtsHook().start_factory_job("load_order")
    assert f"\n{shown(info.value)}\n" in README


def test_a_wrong_secret_key(emulator, monkeypatch):
    conn = {**emulator.connection(), "password": "a-wrong-secret-key"}
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", json.dumps(conn))
    with pytest.raises(DataArtsApiError) as info:
        DataArtsHook().stop_check_task(CHECK_TASK)
    assert f"\n{shown(info.value)}\n" in README


def test_a_wrong_rule_type(emulator):
    hook = DataArtsHook()
    started = int(time.time() * 1000)
    instance_id = hook.rerun_quality_job(COMPARISON_RULE, rule_type=2)
    with pytest.raises(ValueError) as info:
        raise_not_listed(SimpleNamespace(hook=hook), instance_id, 1, started, 300)
    (line,) = [line for line in README.splitlines() if "set rule_type=2" in line]
    # The README's run has another id and time: compare the rest word for word.
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<utc>", re.sub(r"\d{19}", "<id>", line))
    pattern = re.escape(line).replace("<utc>", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC").replace("<id>", r"\d+")
    assert re.fullmatch(pattern, shown(info.value)), (pattern, shown(info.value))


def test_a_host_without_scheme():
    conn = SimpleNamespace(conn_id="c", login="AK", password="SK", host="127.0.0.1:8765", port=None, extra="{}")
    with pytest.raises(ValueError) as info:
        ConnectionConfig.from_connection(conn)
    assert f"\n{shown(info.value)}\n" in README


def test_a_bad_config_file(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps({"rules": [{"rule_id": "1", "outcomes": ["OK"]}]}))
    done = subprocess.run([*EMULATOR_CLI, "--config", "rules.json"], cwd=tmp_path, capture_output=True, text=True)
    message = done.stderr.strip().splitlines()[-1].split(": ", 1)[1]
    assert " ".join(message.split()) in " ".join(README.split())


def test_the_conftest_shown_is_the_shipped_one():
    block = README.split("In your tests' `conftest.py`:\n\n```python\n", 1)[1].split("```", 1)[0]
    shipped = (ROOT / "airflow_provider_dataarts" / "emulator" / "example_test" / "conftest.py").read_text()
    assert block in shipped
