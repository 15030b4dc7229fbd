"""The pytest plugin as a DAG author uses it: the shipped example test, run as they would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_dataarts.emulator

EXAMPLE = Path(airflow_provider_dataarts.emulator.__file__).with_name("example_test")


@pytest.mark.timeout(300)
def test_the_shipped_example_test_passes_in_a_project_of_its_own(tmp_path):
    """Copied into an empty directory and run with pytest, with none of this suite's settings."""
    shutil.copytree(EXAMPLE, tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed" in done.stdout
