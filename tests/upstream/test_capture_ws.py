"""A WebSocket capture as upstream A3CP's page streams it, on upstream's path: accepted and recorded
with normalised timestamps; a time without offset or a non-UUID capture_id answered by a capture.abort
naming the field; a client that closes right after capture.close still gets its capture recorded."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient
from websockets.sync.client import connect

from a3cp.config import Settings
from a3cp.schemas import format_timestamp
from a3cp.storage_layout import session_log_path
from eventstore import read_log

from .conftest import FRAMES, browser_headers
from .shapes import BROWSER_WS_PATH, LEGACY_WS_PATH, BrowserCapture, micro_offset, micro_z, start_as_browser

USER = "demo_user"


def start(client: TestClient) -> str:
    answer = client.post("/session_manager/sessions.start", json=start_as_browser(USER))
    assert answer.is_success, answer.text
    return str(answer.json()["session_id"])


def feature_events(settings: Settings, session_id: str) -> list[dict[str, Any]]:
    events = read_log(session_log_path(settings, USER, session_id)).events
    return [e for e in events if e["event"] == "capture.features"]


def until_closed(ws: Any) -> tuple[list[dict[str, Any]], int]:
    messages = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return messages, int(message["code"])
        messages.append(json.loads(message["text"]))


def stream(ws: Any, capture: BrowserCapture, frames: list[bytes]) -> None:
    """open, then frame_meta + bytes per frame, then close: the page's order, answers unread."""
    ws.send_text(capture.open())
    for seq, frame in enumerate(frames, start=1):
        ws.send_text(capture.meta(seq, len(frame)))
        ws.send_bytes(frame)
    ws.send_text(capture.close(after_frames=len(frames)))


@pytest.mark.parametrize(
    ("path", "stamp"),
    [(BROWSER_WS_PATH, micro_offset), (LEGACY_WS_PATH, micro_z)],
    ids=["browser-path-+00:00", "legacy-path-microseconds-Z"],
)
def test_upstream_capture_is_recorded_with_normalised_times(
    page_client: TestClient, upstream_settings: Settings, camera_frames: list[bytes], path: str, stamp: Any
) -> None:
    session_id = start(page_client)
    moment = datetime.now(UTC).replace(microsecond=654321)
    # a UUID of another version than 4, upper case: any UUID is a capture_id, recorded lowercase
    capture = BrowserCapture(USER, session_id, moment, stamp, capture_id=str(uuid.uuid1()).upper())
    with page_client.websocket_connect(path) as ws:
        stream(ws, capture, camera_frames)
        messages, code = until_closed(ws)
    assert code == 1000
    assert [m["event"] for m in messages] == ["capture.result"]  # the page ignores it
    [event] = feature_events(upstream_settings, session_id)
    assert event["capture_id"] == capture.capture_id.lower()
    assert event["timestamp_start"] == format_timestamp(moment) and event["timestamp_start"].endswith(".654Z")
    assert event["timestamp_end"] == format_timestamp(capture.end_time(FRAMES))
    assert event["raw_features_ref"]["shape"][0] == FRAMES and event["quality"]["pose"] > 0.5


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"timestamp_start": "2026-03-15T12:34:56.123456"}, "timestamp_start"),
        ({"capture_id": f"cap-{uuid.uuid4()}"}, "capture_id"),
    ],
    ids=["time-without-offset", "cap-prefixed-capture-id"],
)
def test_a_refused_open_gets_an_abort_naming_the_field(
    page_client: TestClient, upstream_settings: Settings, override: dict[str, str], field: str
) -> None:
    session_id = start(page_client)
    capture = BrowserCapture(USER, session_id, datetime.now(UTC))
    with page_client.websocket_connect(BROWSER_WS_PATH) as ws:
        ws.send_text(capture.open(**override))
        [abort], code = until_closed(ws)
    assert (abort["event"], abort["error_code"], code) == ("capture.abort", "schema_violation", 1008)
    assert [f["field"] for f in abort["fields"]] == [field] and field in abort["message"]
    assert (abort["user_id"], abort["session_id"]) == (USER, session_id)
    assert feature_events(upstream_settings, session_id) == []


def test_a_client_closing_right_after_close_still_gets_its_capture_recorded(
    live_server: str,
    page_client: TestClient,
    upstream_settings: Settings,
    camera_frames: list[bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The page calls ws.close(1000) right after sending capture.close, never reading an answer, so
    the server's capture.result meets a closed socket: that is no failure and no abort."""
    session_id = start(page_client)  # the same logs as the live server's
    capture = BrowserCapture(USER, session_id, datetime.now(UTC))
    caplog.set_level(logging.INFO, logger="a3cp.web.capture_ws")
    headers = browser_headers(page_client, f"http://{live_server}")  # the page's cookie, its origin
    with connect(f"ws://{live_server}{BROWSER_WS_PATH}", additional_headers=headers) as ws:
        ws.send(capture.open())
        for seq, frame in enumerate(camera_frames, start=1):
            ws.send(capture.meta(seq, len(frame)))
            ws.send(frame)
        ws.send(capture.close(after_frames=len(camera_frames)))
        ws.close(1000)
    deadline = time.monotonic() + 60
    while not feature_events(upstream_settings, session_id):
        assert time.monotonic() < deadline, "the capture was not recorded"
        time.sleep(0.1)
    time.sleep(0.5)  # let the connection's handler finish its logging
    [event] = feature_events(upstream_settings, session_id)
    assert event["capture_id"] == capture.capture_id
    messages = [record.getMessage() for record in caplog.records]
    assert not any("capture failed" in m or "abort" in m for m in messages), messages
