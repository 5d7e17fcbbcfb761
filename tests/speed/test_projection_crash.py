"""SIGKILL of a process in the middle of a catch-up or a rebuild, then a restart: the projection
equals a fresh rebuild from the logs. Every batch commits its index rows, session rows and the logs'
checkpoints in one transaction (WAL, synchronous=NORMAL), so a killed writer leaves the projection
behind the logs, never ahead of them or half-applied, and the next catch-up finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from a3cp.config import Settings
from bench.rebuild import generate
from projections.store import Projection
from tests.projection.projection_checks import dump, rebuilt_dump

REPO = Path(__file__).resolve().parents[2]
# Small batches, so that a kill lands between commits as well as inside one.
CHILD = """
import sys
from pathlib import Path
from a3cp.config import Settings
from projections import store
store.REBUILD_BATCH_EVENTS = 100
root = Path(sys.argv[2])
settings = Settings(data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root}/p.sqlite3")
projection = store.Projection(settings)
projection.upgrade()
print("ready", flush=True)
projection.rebuild() if sys.argv[1] == "rebuild" else projection.catch_up()
print("done", flush=True)
"""


def _settings(root: Path) -> Settings:
    return Settings(data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root}/p.sqlite3")


def _killed_during(what: str, root: Path, delay_s: float) -> bool:
    """Run `what` in a child and SIGKILL it `delay_s` after it is ready; True if it was still working."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, what, str(root)], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(delay_s)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.stdout.read().strip() != "done"


@pytest.mark.parametrize("what", ["catch_up", "rebuild"])
@pytest.mark.parametrize("delay_s", [0.02, 0.2])
def test_a_killed_writer_leaves_a_projection_that_catches_up_to_a_fresh_rebuild(
    tmp_path: Path, what: str, delay_s: float
) -> None:
    settings = _settings(tmp_path)
    generate(settings, logs=60, per_log=20, users=7)
    if what == "rebuild":
        Projection(settings).rebuild()  # something to throw away first

    killed = _killed_during(what, tmp_path, delay_s)

    restarted = Projection(settings)
    restarted.upgrade()
    restarted.catch_up()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert dump(restarted) == rebuilt_dump(settings, scratch), f"killed mid-{what}: {killed}"
    restarted.engine.dispose()
