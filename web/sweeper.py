"""The app's background tasks: the timeout sweep, at start-up and then every `sweep_interval(timeout)`
seconds, and the safety-net scan of every log (web/safety_net.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

from starlette.applications import Starlette

from a3cp.bootstrap import Services
from a3cp.services.reads import RECORD_CHECK_SCAN_INTERVAL_S
from web.safety_net import scan_forever

logger = logging.getLogger("a3cp.sweeper")
MAX_SWEEP_INTERVAL_S = 60.0


def sweep_interval(timeout_s: float) -> float:
    """A quarter of the timeout, at most a minute: a session is closed at most this late."""
    return max(0.5, min(MAX_SWEEP_INTERVAL_S, timeout_s / 4))


async def _sweep_forever(services: Services) -> None:
    interval = sweep_interval(services.settings.session_timeout_s)
    while True:
        try:
            # the safety net scans the logs; without it (a failed pass) the sweep scans at most once a second
            closed = await asyncio.to_thread(services.sweeper.sweep, None, RECORD_CHECK_SCAN_INTERVAL_S)
            if closed:
                logger.info("closed %d idle sessions", len(closed))
        except Exception:  # keep sweeping: a failed sweep (database busy, disk full) is retried
            logger.exception("timeout sweep failed")
        await asyncio.sleep(interval)


def sweeper_lifespan(services: Services) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A Starlette lifespan that runs the sweep and the safety net in the background while the app serves."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(_sweep_forever(services)),
            asyncio.create_task(scan_forever(services.settings, services.projection)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan
