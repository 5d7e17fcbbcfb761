"""Capacity against a real `a3cp serve` on loopback (A3CP_MAX_CAPTURES=2), spoken with the websockets
client library: `capacity + k` concurrent WebSocket captures stream frames in real time, exactly `k` are
refused at open with `capacity_exhausted` (close 1013), the rest are recorded in full (T equals the frames
sent) with no 1011; 200 idle `capture.open`s leave the server's RSS near idle."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from bench import client
from bench.person import person_frames
from bench.processes import ServerProcess, free_port, provision, split_env
from tests.fixtures.loop import run_in_fresh_loop
from tests.fixtures.ws_capture import Capture
from tests.limits.ws_client import WS_PATH

CAPACITY = 2
EXTRA = 2
FRAMES = 12  # 2.4 s at 5 fps
IDLE_OPENS = 200
HANDSHAKE_BATCH = 20
IDLE_RSS_BOUND_MIB = 150  # measured: see docs/limits.md
USER = "load01"
IDLE_USER = "load02"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """The server, and the carer's headers (provisioned on its roots before it starts)."""
    root = tmp_path_factory.mktemp("capacity")
    env = split_env(root / "data", root / "logs", 1)
    env.update(A3CP_MAX_CAPTURES=str(CAPACITY))
    headers = provision(env, client.PERFORMER, (USER, IDLE_USER))
    process = ServerProcess("all", free_port(), env, root / "serve.log").start()
    try:
        yield process, headers
    finally:
        process.stop()


@pytest.fixture(scope="module")
def server(stack: tuple[ServerProcess, dict[str, str]]) -> ServerProcess:
    return stack[0]


@pytest.fixture(scope="module")
def headers(stack: tuple[ServerProcess, dict[str, str]]) -> dict[str, str]:
    return stack[1]


def start_session(server: ServerProcess, headers: dict[str, str], user_id: str) -> str:
    """A new session (201) for `user_id`: each test has its own person, since a second start for a
    person with an active session returns that session (200) instead."""
    with httpx.Client(base_url=server.url, headers=headers) as http:
        return client.start_session(http, user_id)


def rss_mib(server: ServerProcess) -> float:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def one_capture(
    url: str, headers: dict[str, str], session_id: str, frames: list[bytes], go: asyncio.Event
) -> dict[str, Any]:
    capture = Capture(session_id, user_id=USER)
    async with websockets.connect(url, max_size=None, additional_headers=headers) as ws:
        await go.wait()
        await ws.send(capture.open())
        try:
            first = await asyncio.wait_for(ws.recv(), 0.5)  # a refusal comes at once
            await ws.wait_closed()
            return {"message": json.loads(first), "close": ws.close_code}
        except TimeoutError:
            pass
        for seq, frame in enumerate(frames, start=1):
            await ws.send(capture.meta(seq, len(frame)))
            await ws.send(frame)
            await asyncio.sleep(1 / capture.fps)
        await ws.send(capture.close(seconds=3.0))
        closed = time.monotonic()
        message = json.loads(await ws.recv())
        latency = time.monotonic() - closed
        await ws.wait_closed()
        return {"message": message, "close": ws.close_code, "latency": latency}


async def run_captures(
    url: str, headers: dict[str, str], session_id: str, count: int
) -> list[dict[str, Any]]:
    frames = person_frames(FRAMES, 320, 240)
    go = asyncio.Event()
    tasks = [
        asyncio.create_task(one_capture(url, headers, session_id, list(frames), go)) for _ in range(count)
    ]
    await asyncio.sleep(0.5)  # every connection is up
    go.set()
    return await asyncio.gather(*tasks)


def test_capacity_plus_k_refuses_exactly_k(
    server: ServerProcess, headers: dict[str, str], reliability_report: Any
) -> None:
    session_id = start_session(server, headers, USER)
    url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
    outcomes = run_in_fresh_loop(run_captures(url, headers, session_id, CAPACITY + EXTRA))
    refused = [o for o in outcomes if o["message"]["event"] == "capture.abort"]
    recorded = [o for o in outcomes if o["message"]["event"] == "capture.result"]
    assert [o["message"]["error_code"] for o in refused] == ["capacity_exhausted"] * EXTRA, outcomes
    assert all(o["close"] == 1013 for o in refused)
    assert len(recorded) == CAPACITY and all(o["message"]["T"] == FRAMES for o in recorded), outcomes
    assert all(o["close"] == 1000 for o in recorded)
    latency = max(o["latency"] for o in recorded)
    reliability_report.add(
        f"{CAPACITY + EXTRA} concurrent WebSocket captures ({FRAMES} frames at 5 fps), capacity {CAPACITY}",
        CAPACITY + EXTRA,
        f"exactly {EXTRA} refused at open with capacity_exhausted (close 1013); {CAPACITY} recorded in full "
        f"(T = {FRAMES}), result at most {latency:.2f} s after close; no 1011",
    )


async def idle_opens(url: str, headers: dict[str, str], session_id: str, count: int) -> list[int | None]:
    async def one() -> Any:
        ws = await websockets.connect(url, additional_headers=headers)
        await ws.send(Capture(session_id, user_id=IDLE_USER).open())
        return ws

    sockets = []
    for _ in range(0, count, HANDSHAKE_BATCH):  # within the per-address cap on connections in handshake
        sockets += await asyncio.gather(*(one() for _ in range(HANDSHAKE_BATCH)))
    await asyncio.sleep(1.0)  # the server has handled every open
    codes = []
    for ws in sockets:
        await ws.close()
        codes.append(ws.close_code)
    return codes


def test_idle_opens_stay_near_idle_rss(
    server: ServerProcess, headers: dict[str, str], reliability_report: Any
) -> None:
    session_id = start_session(server, headers, IDLE_USER)
    url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
    before = rss_mib(server)
    peak = [before]

    async def watched() -> list[int | None]:
        task = asyncio.create_task(idle_opens(url, headers, session_id, IDLE_OPENS))
        while not task.done():
            peak.append(rss_mib(server))
            await asyncio.sleep(0.1)
        return await task

    run_in_fresh_loop(watched())
    grown = max(peak) - before
    assert grown < IDLE_RSS_BOUND_MIB, (before, max(peak))
    reliability_report.add(
        f"{IDLE_OPENS} WebSocket connections that send capture.open and then nothing",
        IDLE_OPENS,
        f"all but {CAPACITY} refused at open; server RSS {before:.0f} → at most {max(peak):.0f} MiB "
        f"(+{grown:.0f} MiB, bound {IDLE_RSS_BOUND_MIB} MiB): no graph before the first frame",
    )
