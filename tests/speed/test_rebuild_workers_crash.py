"""SIGKILL of a rebuild that parses in worker processes (projections/rebuild_parse.py): the fork server
and the workers die with it, and after a restart the projection catches up to a fresh rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from a3cp.config import Settings
from bench.rebuild import generate
from projections.store import Projection
from tests.projection.projection_checks import dump, rebuilt_dump

REPO = Path(__file__).resolve().parents[2]
MARK = "A3CP_TEST_REBUILD_MARK"  # inherited by the child's fork server and workers: finds them
CHILD = """
import sys
from pathlib import Path
from a3cp.config import Settings
from projections import rebuild_parse, store
store.REBUILD_BATCH_EVENTS = 500
rebuild_parse.PARALLEL_MIN_BYTES = 0
root = Path(sys.argv[1])
settings = Settings(data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root}/p.sqlite3")
projection = store.Projection(settings)
projection.upgrade()
print("ready", flush=True)
projection.rebuild(jobs=2)
print("done", flush=True)
"""


def _marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries `mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"{MARK}={mark}".encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; the death signal is Linux's")
@pytest.mark.parametrize("delay_s", [0.3, 0.8])
def test_a_killed_parallel_rebuild_leaves_no_worker_and_catches_up(tmp_path: Path, delay_s: float) -> None:
    settings = Settings(
        data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url=f"sqlite:///{tmp_path}/p.sqlite3"
    )
    generate(settings, logs=120, per_log=25, users=9)
    mark = uuid.uuid4().hex
    env = dict(os.environ, PYTHONPATH=str(REPO), **{MARK: mark})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(delay_s)
    child.send_signal(signal.SIGKILL)
    child.wait()
    finished = child.stdout.read().strip() == "done"

    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _marked(mark) == [], f"processes outlived the killed rebuild (finished: {finished})"
    restarted = Projection(settings)
    restarted.upgrade()
    restarted.catch_up()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert dump(restarted) == rebuilt_dump(settings, scratch), f"finished before the kill: {finished}"
    restarted.engine.dispose()
