"""The app's background safety net: the scan of every log, off the request path (projections/safety_net.py).

Runs `Projection.safety_net_pass` in a worker thread, pausing between passes as long as the pass
asks; while it runs, requests skip their periodic scans. A failed pass is logged and the loop goes
on; when the app stops, the request path takes the scans back.
"""

from __future__ import annotations

import asyncio
import logging

from projections.safety_net import INTERVAL_S
from projections.store import Projection

logger = logging.getLogger("a3cp.projection")


async def scan_forever(projection: Projection) -> None:
    try:
        while True:
            try:
                pause = await asyncio.to_thread(projection.safety_net_pass)
            except Exception:  # keep scanning: a failed pass (database busy, disk error) is retried
                logger.exception("safety-net scan of the logs failed")
                pause = INTERVAL_S
            await asyncio.sleep(pause)
    finally:
        projection.safety_net.stopped()
