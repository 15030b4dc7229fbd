"""The benchmarks at a tiny scale, so they cannot rot (figures are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_benchmark_smoke_run():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"], capture_output=True, text=True, timeout=280
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for section in ("## 1. DAG parse cost", "## 2. Per-call cost", "## 3. 20 deferred waits"):
        assert section in result.stdout
    assert "| events delivered, right final status | 20 of 20" in result.stdout
