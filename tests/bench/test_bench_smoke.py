"""Smoke test: every bench script still runs with --quick (no timing assertions)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = ["bench.append"]


@pytest.mark.parametrize("module", SCRIPTS)
def test_bench_script_runs_quick(module: str, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout
