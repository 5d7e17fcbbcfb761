"""Capture latency and server memory, against a real `a3cp serve` on loopback, 480p frames of the
real-person fixture at 15 fps:

- HTTP (`POST /camera_feed_worker/captures`, multipart streamed as fast as the server takes it):
  seconds from the last frame written to the socket to the 201;
- WebSocket (`/camera_feed_worker/capture`, frames paced in real time, as a webcam sends them):
  seconds from `capture.close` to `capture.result`;
- for 10 s and 120 s captures; during each, the server's peak RSS minus its idle RSS (models loaded
  by a warm-up capture first);
- with `--concurrent SECONDS`: as many WebSocket captures of SECONDS at once as the server's capacity
  (A3CP_MAX_CAPTURES, default the cores it may use), each paced in real time: every result's seconds
  after its `capture.close`, and the peak RSS growth (docs/limits.md).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from a3cp.schemas import format_timestamp, utc_now
from bench.client import CAPTURE_PATH, request_body, start_session
from bench.frames import FPS, HEIGHT, WIDTH, jpeg_frames
from bench.server import Server, served

USER = "bench-user"
BOUNDARY = "a3cp-bench-boundary"
JPEG_TYPE = "Content-Type: image/jpeg"


def _multipart(meta: dict[str, Any], jpegs: list[bytes], marks: dict[str, float]) -> Iterator[bytes]:
    def part(headers: str, payload: bytes) -> bytes:
        return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + payload + b"\r\n"

    yield part(
        'Content-Disposition: form-data; name="meta"\r\nContent-Type: application/json',
        json.dumps(meta).encode(),
    )
    for index, jpeg in enumerate(jpegs):
        yield part(
            f'Content-Disposition: form-data; name="frame"; filename="{index}.jpg"\r\n{JPEG_TYPE}',
            jpeg,
        )
    marks["last_frame_sent"] = time.perf_counter()  # the generator resumes once the frame is written
    yield f"--{BOUNDARY}--\r\n".encode()


def http_capture(server: Server, session_id: str, jpegs: list[bytes]) -> float:
    start = datetime.now(UTC) - timedelta(seconds=len(jpegs) / FPS)
    meta = request_body(
        USER,
        timestamp=utc_now(),
        session_id=session_id,
        timestamp_start=format_timestamp(start),
        timestamp_end=format_timestamp(start + timedelta(seconds=len(jpegs) / FPS)),
        fps=FPS,
        width=WIDTH,
        height=HEIGHT,
        frame_count=len(jpegs),
    )
    marks: dict[str, float] = {}
    response = httpx.post(
        server.url + CAPTURE_PATH,
        content=_multipart(meta, jpegs, marks),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **server.headers},
        timeout=600,
        verify=server.verify,
    )
    latency = time.perf_counter() - marks["last_frame_sent"]
    assert response.status_code == 201, response.text
    assert response.json()["T"] == len(jpegs)
    return latency


def ws_capture(server: Server, session_id: str, jpegs: list[bytes]) -> float:
    capture_id = str(uuid.uuid4())
    start = datetime.now(UTC)

    def message(event: str, **fields: Any) -> str:
        envelope = request_body(USER, timestamp=utc_now(), session_id=session_id, source="browser")
        envelope.update(event=event, capture_id=capture_id)
        return json.dumps({**envelope, **fields})

    url = server.url.replace("http", "ws", 1) + "/camera_feed_worker/capture"  # wss:// for https://
    with connect(url, max_size=2**20, additional_headers=server.headers, ssl=server.tls) as ws:
        ws.send(
            message(
                "capture.open",
                timestamp_start=format_timestamp(start),
                fps_target=FPS,
                width=WIDTH,
                height=HEIGHT,
                encoding="jpeg",
            )
        )
        began = time.monotonic()
        for seq, jpeg in enumerate(jpegs, start=1):
            time.sleep(max(0.0, began + (seq - 1) / FPS - time.monotonic()))  # a webcam's pace
            frame_time = format_timestamp(start + timedelta(seconds=(seq - 1) / FPS))
            ws.send(message("capture.frame_meta", seq=seq, timestamp_frame=frame_time, byte_length=len(jpeg)))
            ws.send(jpeg)
        time.sleep(max(0.0, began + len(jpegs) / FPS - time.monotonic()))
        ws.send(
            message(
                "capture.close", timestamp_end=format_timestamp(start + timedelta(seconds=len(jpegs) / FPS))
            )
        )
        closed = time.perf_counter()
        result = json.loads(ws.recv(timeout=600))
        latency = time.perf_counter() - closed
    assert result["event"] == "capture.result", result
    assert result["T"] == len(jpegs)
    return latency


def measure(server: Server, capture: Any, session_id: str, jpegs: list[bytes]) -> tuple[float, float]:
    """(latency s, peak RSS during the capture minus RSS just before it, MiB)."""
    idle = server.rss_mib()
    server.reset_peak()
    latency = capture(server, session_id, jpegs)
    return latency, server.peak_mib() - idle


def _outcome(server: Server, session_id: str, jpegs: list[bytes]) -> str:
    """One capture's result latency, or how it was ended (a capture the server aborts is a figure too)."""
    began = time.monotonic()
    try:
        return f"{ws_capture(server, session_id, jpegs):.2f} s after close"
    except ConnectionClosed as closed:
        reason = closed.rcvd.reason if closed.rcvd is not None else "no close frame"
        return f"aborted {reason} after {time.monotonic() - began:.1f} s"


def concurrent_ws(server: Server, session_id: str, jpegs: list[bytes], count: int) -> list[str]:
    """`count` real-time WebSocket captures at once; each one's outcome."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: _outcome(server, session_id, jpegs), range(count)))


def open_session(server: Server) -> str:
    """A session for USER on `server`, started as the carer account the server's headers prove."""
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60, verify=server.verify) as http:
        return start_session(http, USER)


def capacity_run(seconds: int, count: int | None) -> None:
    capacity = count or len(os.sched_getaffinity(0))  # the server's default capacity
    frames = jpeg_frames(seconds * FPS)
    with tempfile.TemporaryDirectory(dir=".") as tmp, served(Path(tmp).resolve(), (USER,)) as server:
        session_id = open_session(server)
        http_capture(server, session_id, frames[: 2 * FPS])  # warm-up
        idle = server.rss_mib()
        server.reset_peak()
        outcomes = concurrent_ws(server, session_id, frames, capacity)
        growth = server.peak_mib() - idle
    print(
        f"{capacity} concurrent WebSocket {seconds} s captures at {FPS} fps ({WIDTH}x{HEIGHT}): "
        + "; ".join(outcomes)
        + f"; peak RSS +{growth:.0f} MiB over idle {idle:.0f} MiB; load average {os.getloadavg()[0]:.1f}"
    )
    print("goal: every result <= 1 s after capture.close")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    parser.add_argument("--concurrent", type=int, metavar="SECONDS", help="capacity-many captures at once")
    parser.add_argument("--count", type=int, help="with --concurrent: this many instead of the capacity")
    args = parser.parse_args(argv)
    if args.concurrent:
        capacity_run(args.concurrent, args.count)
        return
    lengths = (2,) if args.quick else (10, 120)
    frames = jpeg_frames(lengths[-1] * FPS)
    with tempfile.TemporaryDirectory(dir=".") as tmp, served(Path(tmp).resolve(), (USER,)) as server:
        session_id = open_session(server)
        http_capture(server, session_id, frames[: 2 * FPS])  # warm-up: imports, models, first capture
        print(f"server idle RSS after a warm-up capture: {server.rss_mib():.0f} MiB")
        for transport, capture in (("HTTP", http_capture), ("WebSocket", ws_capture)):
            for seconds in lengths:
                latency, growth = measure(server, capture, session_id, frames[: seconds * FPS])
                print(
                    f"{transport} {seconds} s capture ({seconds * FPS} frames {WIDTH}x{HEIGHT}): "
                    f"result {latency:.2f} s after the last frame; peak RSS +{growth:.0f} MiB over idle"
                )
    print("goals: WebSocket result <= 1 s after capture.close even at 120 s; peak RSS growth <= 300 MiB")


if __name__ == "__main__":
    main()
