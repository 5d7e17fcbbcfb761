"""`python -m bench.recognition --quick` (part of `python -m bench --quick`) runs on the committed takes and
prints its figures; speed and accuracy goals are judged in docs/benchmarks.md, not asserted here."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_recognition_bench_runs_quick_on_the_committed_takes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.recognition", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for figure in ("mean over people", "vs baseline", "goal mean rejection at K=5", "recognize ms"):
        assert figure in result.stdout, result.stdout


def test_recognition_bench_skips_without_the_shared_set(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.recognition", str(tmp_path / "absent")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "bench.recognition skipped" in result.stdout
