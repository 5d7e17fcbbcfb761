"""Smoke test: every benchmark still runs end to end at its --quick size (figures printed, never
asserted: speed is judged from `make bench` output in docs/benchmarks.md, not in unit tests)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_bench_runs_quick(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for module in ("append", "rebuild", "api", "extraction", "capture"):
        assert f"## bench.{module}" in result.stdout
    for figure in ("ratio recorder/sqlite", "ratio rebuild/bare", "requests/s", "ratio pipeline/bare"):
        assert figure in result.stdout
    assert "WebSocket 2 s capture" in result.stdout
    assert list(tmp_path.iterdir()) == [], "benchmarks clean up their temporary data"


def test_api_bench_profiles_the_server_with_py_spy(tmp_path: Path) -> None:
    stacks = tmp_path / "api.stacks"
    result = subprocess.run(
        [sys.executable, "-m", "bench.api", "--quick", "--profile", str(stacks)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "server profile (" in result.stdout
    assert "SessionService.start (a3cp/services/sessions.py:" in stacks.read_text()
