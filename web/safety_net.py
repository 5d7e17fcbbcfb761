"""The app's background safety net: the scan of every log, off the request path (projections/safety_net.py).

The passes run in a child process with its own projection of the same logs and database (the
projection is multi-process safe, like uvicorn workers): a scan of 100,000 logs is about a second of
Python, and in a thread of the server it held the GIL against the requests (a page of sessions 4x
slower meanwhile, bench.people). The child comes from a fork server, so it starts clean (no inherited
database connections) and cheaply after the first. While its passes keep coming, requests skip their
periodic scans; a failed pass is logged and retried, a dead child replaced, and when the app stops
the request path takes the scans back.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from a3cp.bootstrap import projection_for
from a3cp.config import Settings
from projections.safety_net import INTERVAL_S
from projections.store import Projection

logger = logging.getLogger("a3cp.projection")
_scanner: Projection | None = None  # in the child: its projection, kept between passes


def _open_scanner(settings: Settings) -> None:
    global _scanner
    _scanner = projection_for(settings)
    _scanner.upgrade()  # at head already: a version check, and the loss guard adopts the file


def _scan_pass() -> float:
    assert _scanner is not None, "the child's initializer opened the projection"
    return _scanner.safety_net_pass()


def _scanner_pool(settings: Settings) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # each child then forks with this module imported
    return ProcessPoolExecutor(1, mp_context=context, initializer=_open_scanner, initargs=(settings,))


async def scan_forever(settings: Settings, projection: Projection) -> None:
    """Passes in the child, each followed by the pause `projection.safety_net` asks for."""
    loop = asyncio.get_running_loop()
    pool = _scanner_pool(settings)
    try:
        while True:
            try:
                took = await loop.run_in_executor(pool, _scan_pass)
                pause = projection.safety_net.passed(took)
            except BrokenProcessPool:  # the child died (killed, out of memory): start another
                logger.warning("safety-net scanner process died; starting a new one")
                pool.shutdown(wait=False)
                pool = _scanner_pool(settings)
                pause = INTERVAL_S
            except Exception:  # keep scanning: a failed pass (database busy, disk error) is retried
                logger.exception("safety-net scan of the logs failed")
                pause = INTERVAL_S
            await asyncio.sleep(pause)
    finally:
        projection.safety_net.stopped()
        pool.shutdown(wait=False, cancel_futures=True)
