"""The app's background safety net: the scan of every log, off the request path (projections/safety_net.py).

The passes run in a child process with its own projection of the same logs and database (the
projection is multi-process safe, like uvicorn workers): a scan of 100,000 logs is about a second of
Python, and in a thread of the server it held the GIL against the requests (a page of sessions 4x
slower meanwhile, bench.people). The child is a fresh interpreter (no inherited database connections)
that runs one pass per line it reads on stdin and answers how long it took: it exits when its stdin
ends, which it does when the server closes it or dies however it dies (a SIGKILL included), so no
scanner outlives its server. While its passes keep coming, requests skip their periodic scans; a failed
pass is logged and retried, a dead child replaced, and when the app stops the request path takes the
scans back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

from a3cp.config import Settings
from projections.safety_net import INTERVAL_S
from projections.store import Projection

logger = logging.getLogger("a3cp.projection")


class ScannerGone(Exception):
    """The scanner child died (killed, out of memory) or answered nonsense: start another."""


def _start_scanner(settings: Settings) -> subprocess.Popen[str]:
    """The child, on `settings`' roots and database (passed in its environment, as `a3cp` reads them)."""
    env = dict(
        os.environ,
        DATA_ROOT=str(settings.data_root),
        LOG_ROOT=str(settings.log_root),
        A3CP_DB_URL=settings.db_url,
        PYTHONPATH=os.pathsep.join(path for path in sys.path if path),
    )
    return subprocess.Popen(
        [sys.executable, "-c", f"from {__name__} import serve_passes; serve_passes()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )


def _pass_in(scanner: subprocess.Popen[str]) -> float:
    """Ask the child for one pass; the seconds it took (blocking: run in a thread)."""
    assert scanner.stdin is not None and scanner.stdout is not None, "started with pipes"
    try:
        scanner.stdin.write("pass\n")
        scanner.stdin.flush()
        answer = scanner.stdout.readline()
    except (BrokenPipeError, OSError) as exc:
        raise ScannerGone(str(exc)) from exc
    if answer.startswith("error "):
        raise RuntimeError(answer.removeprefix("error ").strip())
    try:
        return float(answer)
    except ValueError:
        raise ScannerGone(f"the scanner answered {answer!r}") from None


def _stop(scanner: subprocess.Popen[str]) -> None:
    """End the child now, even mid-pass or still importing (about 2 s of it: a server stopping soon after
    it started waited that long): a pass only catches up, in transactions the database rolls back."""
    if scanner.stdin is not None:
        try:
            scanner.stdin.close()
        except OSError:
            pass
    scanner.terminate()
    scanner.wait()


def serve_passes() -> None:
    """The child: one pass of the projection's safety net per line read, until stdin ends."""
    projection = Projection(Settings.from_env())
    projection.upgrade()  # at head already: a version check, and the loss guard adopts the file
    for _ in sys.stdin:
        try:
            took = projection.safety_net_pass()
        except Exception as exc:  # reported to the server, which logs it and asks again later
            print(f"error {type(exc).__name__}: {exc}", flush=True)
            continue
        print(took, flush=True)


async def scan_forever(settings: Settings, projection: Projection) -> None:
    """Passes in the child, each followed by the pause `projection.safety_net` asks for. The first one
    waits the shortest pause: the timeout sweep has just scanned every log at start-up, and a server
    (or a test) that stops before then never pays for starting the child."""
    await asyncio.sleep(INTERVAL_S)
    scanner = _start_scanner(settings)
    try:
        while True:
            try:
                took = await asyncio.to_thread(_pass_in, scanner)
                pause = projection.safety_net.passed(took)
            except ScannerGone as gone:
                logger.warning("safety-net scanner process died (%s); starting a new one", gone)
                _stop(scanner)
                scanner = _start_scanner(settings)
                pause = INTERVAL_S
            except Exception:  # keep scanning: a failed pass (database busy, disk error) is retried
                logger.exception("safety-net scan of the logs failed")
                pause = INTERVAL_S
            await asyncio.sleep(pause)
    finally:
        projection.safety_net.stopped()
        await asyncio.to_thread(_stop, scanner)
