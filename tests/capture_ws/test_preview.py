"""`capture.preview` over the real WebSocket and MediaPipe: sent only to a capture.open that asks with
`"preview": true`, at most ~5 a second, each the newest tracked frame's 2-D pose and hands; the capture
is recorded exactly as without it."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import CapturePreview, parse_timestamp
from bench.client import end_session, start_session
from tests.capture_ws.test_capture_protocol import PATH, outcome
from tests.fixtures.ws_capture import USER, Capture, feature_files

FRAME_GAP_S = 0.25  # frames paced like a slow camera, so tracking keeps up and previews fall due


def paced_capture(client: TestClient, frames: list[bytes], **open_fields: object) -> list[dict[str, object]]:
    """One capture sent at a camera's pace; every message the server sent, until it closed 1000."""
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    messages: list[dict[str, object]] = []
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open(**open_fields))
        for seq, frame in enumerate(frames, start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
            time.sleep(FRAME_GAP_S)
        ws.send_text(capture.close(seconds=3.0))
        messages, code = outcome(ws)
    end_session(client, session_id, USER)  # one active session per person
    assert code == 1000
    assert messages[-1]["event"] == "capture.result", messages[-1]
    return messages


def test_previews_arrive_when_asked_throttled_and_small(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    messages = paced_capture(client, jpeg_frames, preview=True)
    previews = [CapturePreview.model_validate(m) for m in messages[:-1]]
    assert len(previews) >= 3 and len(previews) == len(messages) - 1
    assert [p.frame for p in previews] == sorted({p.frame for p in previews})  # newer each time
    sent_at = [parse_timestamp(p.timestamp).timestamp() for p in previews]
    assert all(b - a >= 0.19 for a, b in zip(sent_at, sent_at[1:], strict=False))  # <= ~5 a second
    assert any(p.pose is not None and len(p.pose) == 33 for p in previews)  # the astronaut's body
    assert all(0.0 <= x <= 1.5 for p in previews if p.pose for point in p.pose for x in point[:1])
    assert max(len(CapturePreview.model_dump_json(p)) for p in previews) < 2_500
    assert len(feature_files(settings, previews[0].session_id)) == 1


def test_no_preview_unless_asked(client: TestClient, jpeg_frames: list[bytes]) -> None:
    for fields in ({}, {"preview": False}):
        messages = paced_capture(client, jpeg_frames[:6], **fields)
        assert [m["event"] for m in messages] == ["capture.result"]
