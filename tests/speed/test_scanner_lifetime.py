"""The safety net's scanner process (web/safety_net.py) never outlives its server: a SIGKILLed server
closes the scanner's stdin by dying, and the scanner exits at its next read."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.processes import ServerProcess, free_port

WAIT_S = 30.0  # a readiness wait on a loaded machine, not a timed assertion


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_scanner_process_dies_with_its_sigkilled_server(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("A3CP_")}
    env.update(DATA_ROOT=str(tmp_path / "data"), LOG_ROOT=str(tmp_path / "logs"))
    server = ServerProcess("all", free_port(), env, tmp_path / "server.log").start()
    assert server.process is not None
    pid = server.process.pid
    _wait_until(lambda: bool(_children(pid)), "the server never started its scanner")
    scanners = _children(pid)
    server.kill()
    _wait_until(
        lambda: not any(_running(child) for child in scanners),
        f"scanner processes {scanners} outlived their SIGKILLed server",
    )
