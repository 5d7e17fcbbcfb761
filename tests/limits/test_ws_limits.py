"""Capacity refusals on both transports, the server-clock deadline, and disk full over WebSocket
(TestClient against the real app; the server clock is replaced, so no test waits 125 s)."""

from __future__ import annotations

import dataclasses
import errno
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.config import (
    CAPACITY_RETRY_AFTER_S,
    CAPTURE_WALL_GRACE_S,
    EXTRACTION_BACKLOG_FRAMES,
    MAX_CAPTURE_SECONDS,
    Settings,
)
from bench.client import CAPTURE_PATH, capture_meta, multipart, start_session
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.ws_capture import USER, Capture, events_of, feature_files, iso
from tests.limits.ws_client import WS_PATH, outcome
from web.app import create_app
from web.error_table import CLOSE_INTERNAL_ERROR, CLOSE_NORMAL, CLOSE_TRY_AGAIN_LATER, ERRORS
from web.routes import capture_ws


@pytest.fixture
def one_slot(settings: Settings) -> Any:
    with signed_in_client(create_app(dataclasses.replace(settings, max_captures=1))) as client:
        yield client


def assert_nothing_recorded(settings: Settings, session_id: str) -> None:
    assert feature_files(settings, session_id) == []
    assert all(e["event"].startswith("session.") for e in events_of(settings, session_id))


def test_over_capacity_is_refused_at_open_on_both_transports(
    one_slot: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    session_id = start_session(one_slot, USER)
    slot = one_slot.app.state.services.captures.admission.admit()  # the one slot is busy
    try:
        meta = capture_meta(session_id, frames=3, user_id=USER)
        http = one_slot.post(CAPTURE_PATH, files=multipart(meta, person_frames(3)))
        assert http.status_code == 503 and http.headers["retry-after"] == str(CAPACITY_RETRY_AFTER_S)
        assert http.json()["error"] == "capacity_exhausted"
        with one_slot.websocket_connect(WS_PATH) as ws:
            ws.send_text(Capture(session_id).open())
            messages, code = outcome(ws)
        assert code == CLOSE_TRY_AGAIN_LATER
        assert [m["error_code"] for m in messages] == ["capacity_exhausted"]
        assert f"retry in {CAPACITY_RETRY_AFTER_S} s" in messages[0]["message"]
    finally:
        slot.release()
    assert ERRORS["capacity_exhausted"].words == "another capture is being processed, try again in a moment"
    capture = Capture(session_id)
    with one_slot.websocket_connect(WS_PATH) as ws:  # the slot is free again
        ws.send_text(capture.open())
        for seq, frame in enumerate(jpeg_frames, start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(capture.close())
        messages, code = outcome(ws)
    assert code == CLOSE_NORMAL and messages[0]["T"] == len(jpeg_frames)
    assert one_slot.app.state.services.captures.admission.in_use == 0


def test_a_frozen_clock_trickle_is_ended_by_the_server_clock(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(capture_ws, "clock", lambda: now[0])
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    frame = jpeg_frames[0]
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open())
        for seq in range(1, 4):  # every frame claims the capture's first instant
            ws.send_text(capture.meta(seq, len(frame), timestamp_frame=iso(capture.start)))
            ws.send_bytes(frame)
            now[0] += 60.0  # ... while the server's clock runs on
        messages, code = outcome(ws)
    assert code == CLOSE_NORMAL
    assert [m["error_code"] for m in messages] == ["capture_time_exceeded"]
    assert f"{MAX_CAPTURE_SECONDS + CAPTURE_WALL_GRACE_S:g} s" in messages[0]["message"]
    assert_nothing_recorded(settings, session_id)


def test_disk_full_over_websocket_is_insufficient_storage(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("a3cp.services.captures.write_artifact", full)
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open())
        for seq, frame in enumerate(jpeg_frames, start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(capture.close())
        messages, code = outcome(ws)
    assert [m["error_code"] for m in messages] == ["insufficient_storage"]
    assert code == CLOSE_INTERNAL_ERROR
    assert_nothing_recorded(settings, session_id)


def test_extraction_far_behind_is_aborted_extraction_behind(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_extraction(self: Any, image: bytes, timestamp_ms: int | None = None) -> None:
        time.sleep(0.5)  # far slower than frames arrive

    monkeypatch.setattr("a3cp.services.captures.CaptureHandle.add_frame", slow_extraction)
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    frame = jpeg_frames[0]
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open())
        for seq in range(1, EXTRACTION_BACKLOG_FRAMES + 20):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        messages, code = outcome(ws)
    assert [m["error_code"] for m in messages] == ["extraction_behind"]
    assert code == CLOSE_TRY_AGAIN_LATER
    assert_nothing_recorded(settings, session_id)
