"""Oversized bodies are cut at the cap while streaming, never read whole; memory measured.

Starlette's TestClient buffers a request body, so these tests drive the real ASGI app directly: the
`receive` callable produces a huge body lazily (one reused chunk, so the harness allocates nothing per
chunk) and counts the bytes the app pulled. Each request must get a 413 `ErrorResponse` naming the
body and its limit, the app must stop pulling within one chunk of the cap (or pull nothing when the
declared Content-Length is already too large), and the tracemalloc peak during the request must stay
far below the body's size. Declared lengths that are honest, lying (small) and absent are covered,
and a multipart part header that never ends is refused within the first chunk.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.types import ASGIApp, Message

from a3cp.config import MAX_CAPTURE_BYTES, MAX_FRAME_BYTES, MAX_JSON_BODY_BYTES, Settings
from bench.client import CAPTURE_PATH, START, capture_meta, request_body
from tests.fixtures.accounts import fixture_headers, is_account_file
from tests.fixtures.loop import run_in_fresh_loop
from tests.fixtures.recorded import feature_events, feature_files
from web.app import create_app

MiB = 1024 * 1024
JSON_CHUNK = 16 * 1024
JSON_BODY = 200 * MiB
CAPTURE_CHUNK = MiB
CAPTURE_BODY = MAX_CAPTURE_BYTES + 16 * MiB
BOUNDARY = "a3cpcapbound"


@dataclass
class LazyBody:
    """An ASGI `receive` that sends `head`, then `filler` repeated up to `total` bytes, then `tail`."""

    head: bytes
    filler: bytes
    total: int
    tail: bytes = b""
    pulled: int = 0
    _sent_filler: int = 0
    _stage: int = 0
    responded: bool = False

    async def receive(self) -> Message:
        if self.responded:
            return {"type": "http.disconnect"}
        chunk = self._next()
        self.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self._stage < 3}

    def _next(self) -> bytes:
        if self._stage == 0:
            self._stage = 1
            return self.head
        if self._stage == 1:
            size = min(len(self.filler), self.total - self._sent_filler)
            self._sent_filler += size
            if self._sent_filler >= self.total:
                self._stage = 2
            return self.filler if size == len(self.filler) else self.filler[:size]
        self._stage = 3
        return self.tail


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


async def call(app: ASGIApp, path: str, headers: dict[str, str], body: LazyBody) -> Answer:
    """One POST through the app's ASGI interface, as the fixture carer; the answer as sent."""
    answer = Answer(status=0)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")
            body.responded = not message.get("more_body", False)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {**fixture_headers(app), **headers}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, body.receive, send)
    return answer


def measured(request: Callable[[], Awaitable[Answer]]) -> tuple[Answer, int]:
    """Run one request on a fresh loop; its answer and the tracemalloc peak while it ran."""

    async def traced() -> tuple[Answer, int]:
        tracemalloc.start()
        try:
            answer = await request()
            return answer, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return run_in_fresh_loop(traced())


def assert_cut_at(answer: Answer, limit: int) -> None:
    assert answer.status == 413, answer
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == "payload_too_large"
    assert body["fields"] == [{"field": "body", "message": f"at most {limit} bytes"}]


def json_headers(declared: int | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if declared is not None:
        headers["content-length"] = str(declared)
    return headers


# Declared length: honest (refused before reading), lying small, absent (chunked).
DECLARED = {"honest": JSON_BODY + 1, "lying": 100, "absent": None}


@pytest.mark.parametrize("declared", list(DECLARED))
def test_json_body_cut_at_cap(declared: str, settings: Settings, reliability_report: Any) -> None:
    app = create_app(settings)
    body = LazyBody(b'{"user_id": "', b"a" * JSON_CHUNK, JSON_BODY, b'"}')
    answer, peak = measured(lambda: call(app, START, json_headers(DECLARED[declared]), body))
    assert_cut_at(answer, MAX_JSON_BODY_BYTES)
    if declared == "honest":
        assert body.pulled == 0  # the declared length alone is enough to refuse
    else:
        assert body.pulled <= MAX_JSON_BODY_BYTES + JSON_CHUNK + len(body.head)
    assert peak < 4 * MAX_JSON_BODY_BYTES, peak
    assert not [path for path in settings.log_root.rglob("*.*") if not is_account_file(path)]
    reliability_report.add(
        f"{JSON_BODY // MiB} MiB JSON body on sessions.start, Content-Length {declared}, "
        f"sent lazily in {JSON_CHUNK // 1024} KiB chunks",
        1,
        f"413 naming body (cap {MAX_JSON_BODY_BYTES} B); app pulled {body.pulled} B; "
        f"tracemalloc peak {peak} B (< 4x cap); nothing recorded",
    )


def start_session(app: ASGIApp) -> str:
    raw = json.dumps(request_body()).encode()
    body = LazyBody(raw, b"", 0)
    answer = run_in_fresh_loop(call(app, START, json_headers(len(raw)), body))
    assert answer.status == 201, answer
    return answer.json()["session_id"]


def part(name: str, content_type: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


def capture_headers(declared: int | None) -> dict[str, str]:
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if declared is not None:
        headers["content-length"] = str(declared)
    return headers


def meta_part(session_id: str) -> bytes:
    meta = capture_meta(session_id, record_id=str(uuid.uuid4()))
    return part("meta", "application/json") + json.dumps(meta).encode() + b"\r\n"


# A frame part larger than the per-frame cap, and a body over the total cap: a complete capture body
# (meta, closing boundary) followed by a huge epilogue, which a multipart parser discards unread.
SHAPES = {
    "frame_part": (
        lambda session_id: meta_part(session_id) + part("frame", "image/jpeg"),
        f"\r\n--{BOUNDARY}--\r\n".encode(),
        MAX_FRAME_BYTES,
    ),
    "epilogue": (
        lambda session_id: meta_part(session_id) + f"--{BOUNDARY}--\r\n".encode(),
        b"",
        MAX_CAPTURE_BYTES,
    ),
}


@pytest.mark.parametrize("declared", list(DECLARED))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_capture_body_cut_at_cap(
    shape: str, declared: str, settings: Settings, reliability_report: Any
) -> None:
    app = create_app(settings)
    session_id = start_session(app)
    head_for, tail, limit = SHAPES[shape]
    body = LazyBody(head_for(session_id), b"\xff" * CAPTURE_CHUNK, CAPTURE_BODY, tail)
    length = {"honest": len(body.head) + CAPTURE_BODY + len(tail), "lying": 100, "absent": None}[declared]
    answer, peak = measured(lambda: call(app, CAPTURE_PATH, capture_headers(length), body))
    if declared == "honest":
        limit = MAX_CAPTURE_BYTES
        assert_cut_at(answer, limit)
        assert body.pulled == 0
    else:
        assert_cut_at(answer, limit)
        assert body.pulled <= limit + CAPTURE_CHUNK + len(body.head)
    assert peak < 4 * MAX_FRAME_BYTES, peak  # the largest part held, not the body
    assert feature_files(settings) == [] and feature_events(settings) == []
    reliability_report.add(
        f"{CAPTURE_BODY // MiB} MiB multipart capture body ({shape.replace('_', ' ')}), "
        f"Content-Length {declared}, sent lazily in {CAPTURE_CHUNK // MiB} MiB chunks",
        1,
        f"413 naming body; app pulled {body.pulled} B (cap {limit} B);"
        f" tracemalloc peak {peak} B (< 4x frame cap); no feature file, no event",
    )


def test_endless_part_header_cut_early(settings: Settings, reliability_report: Any) -> None:
    """A part header that never ends (80 MiB, no CRLF) is refused at the parser's header-line limit."""
    app = create_app(settings)
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="meta"; x="'.encode()
    body = LazyBody(head, b"a" * CAPTURE_CHUNK, CAPTURE_BODY)
    answer, peak = measured(lambda: call(app, CAPTURE_PATH, capture_headers(None), body))
    assert answer.status == 400, answer
    assert answer.json()["error"] == "invalid_multipart"
    assert answer.json()["fields"][0]["field"] == "body"
    assert body.pulled <= len(head) + CAPTURE_CHUNK
    assert peak < 4 * MAX_FRAME_BYTES, peak
    assert feature_files(settings) == [] and feature_events(settings) == []
    reliability_report.add(
        f"{CAPTURE_BODY // MiB} MiB multipart part header with no line end, sent lazily in "
        f"{CAPTURE_CHUNK // MiB} MiB chunks",
        1,
        f"400 invalid_multipart naming body; app pulled {body.pulled} B; tracemalloc peak {peak} B; "
        "nothing recorded",
    )
