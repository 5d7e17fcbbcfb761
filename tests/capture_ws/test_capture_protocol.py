"""WS /camera_feed_worker/capture spoken from Python: the happy path, every abort reason, malformed JSON
(1003), schema and protocol errors (1008), both timeouts, and a dropped connection mid-capture.
After every failure: no feature file, no feature event, and the pipeline released."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.config import MAX_FRAME_BYTES, Settings
from bench.client import end_session, start_session
from tests.fixtures.ws_capture import USER, Capture, events_of, feature_files, iso

PATH = "/camera_feed_worker/capture"


def outcome(ws: Any) -> tuple[list[dict[str, Any]], int]:
    """Every JSON message the server sends until it closes, and the close code."""
    messages = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return messages, int(message["code"])
        messages.append(json.loads(message["text"]))


def send_frames(ws: Any, capture: Capture, frames: list[bytes]) -> None:
    for seq, frame in enumerate(frames, start=1):
        ws.send_text(capture.meta(seq, len(frame)))
        ws.send_bytes(frame)


def assert_nothing_recorded(settings: Settings, session_id: str) -> None:
    assert feature_files(settings, session_id) == []
    assert [e["event"] for e in events_of(settings, session_id)][1:] in ([], ["session.end"])
    assert all(e["event"].startswith("session.") for e in events_of(settings, session_id))


def aborted(ws: Any) -> tuple[str, int]:
    messages, code = outcome(ws)
    assert len(messages) == 1 and messages[0]["event"] == "capture.abort", messages
    assert messages[0]["capture_id"] and messages[0]["record_id"]
    return messages[0]["error_code"], code


def test_happy_path_records_one_verified_capture(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open(annotation={"intent": "drink"}))
        send_frames(ws, capture, jpeg_frames)
        ws.send_text(capture.close(seconds=3.0))
        messages, code = outcome(ws)
    assert code == 1000
    [result] = messages
    assert result["event"] == "capture.result"
    assert result["record_id"] == capture.record_id and result["capture_id"] == capture.capture_id
    assert (result["T"], result["D"]) == (len(jpeg_frames), 1662)
    [path] = feature_files(settings, session_id)
    assert path.name == f"{capture.record_id}.npz"
    assert result["raw_features_ref"]["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    features = [e for e in events_of(settings, session_id) if e["record_id"] == capture.record_id]
    assert len(features) == 1 and features[0]["source"] == "landmark_extractor"
    assert features[0]["annotation"]["intent"] == "drink"
    assert result["quality"]["pose"] > 0.5


def test_reused_record_id_is_refused_and_nothing_is_overwritten(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    session_id = start_session(client, USER)
    first = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(first.open())
        send_frames(ws, first, jpeg_frames[:3])
        ws.send_text(first.close())
        assert outcome(ws)[1] == 1000
    [path] = feature_files(settings, session_id)
    before = path.read_bytes()
    again = Capture(session_id, record_id=first.record_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(again.open())
        send_frames(ws, again, jpeg_frames[3:6])
        ws.send_text(again.close())
        error_code, _ = aborted(ws)
    assert error_code == "record_id_conflict"
    assert path.read_bytes() == before
    assert sum(e["record_id"] == first.record_id for e in events_of(settings, session_id)) == 1


@pytest.mark.parametrize("state", ["closed", "unknown"])
def test_open_on_a_session_that_is_not_active_aborts(client: TestClient, state: str) -> None:
    session_id = start_session(client, USER)
    if state == "closed":
        end_session(client, session_id, USER)
    capture = Capture(session_id if state == "closed" else "no_such_session")
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        error_code, code = aborted(ws)
    assert error_code == ("session_closed" if state == "closed" else "session_invalid")
    assert code == 1000


def test_session_ended_mid_capture_aborts_and_records_nothing(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        send_frames(ws, capture, jpeg_frames[:2])
        end_session(client, session_id, USER)
        ws.send_text(capture.meta(3, len(jpeg_frames[2])))
        error_code, _ = aborted(ws)
    assert error_code == "session_closed"
    assert_nothing_recorded(settings, session_id)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("long_frame_time", "limit_duration_exceeded"),
        ("long_close", "limit_duration_exceeded"),
        ("short_close", "limit_duration_too_short"),
        ("huge_frame", "limit_frame_bytes_exceeded"),
        ("fps", "limit_fps_exceeded"),
        ("resolution", "limit_resolution_exceeded"),
    ],
)
def test_limits_abort_with_a_clear_error_code(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes], step: str, expected: str
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    frame = jpeg_frames[0]
    with client.websocket_connect(PATH) as ws:
        if step == "fps":
            ws.send_text(capture.open(fps_target=30))
        elif step == "resolution":
            ws.send_text(capture.open(width=1280, height=720))
        else:
            ws.send_text(capture.open())
            send_frames(ws, capture, [frame])
            if step == "long_frame_time":
                late = iso(capture.start + timedelta(seconds=121))
                ws.send_text(capture.meta(2, len(frame), timestamp_frame=late))
            elif step == "huge_frame":
                ws.send_text(capture.meta(2, MAX_FRAME_BYTES + 1))
            else:
                ws.send_text(capture.close(seconds=121 if step == "long_close" else 1.0))
        error_code, code = aborted(ws)
    assert (error_code, code) == (expected, 1000)
    assert_nothing_recorded(settings, session_id)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("seq_gap", "seq_out_of_order"),
        ("time_backwards", "timestamp_out_of_order"),
        ("short_bytes", "byte_length_mismatch"),
        ("text_instead_of_bytes", "protocol_violation"),
        ("bytes_without_meta", "protocol_violation"),
        ("other_capture_id", "protocol_violation"),
        ("second_open", "protocol_violation"),
        ("reused_message_record_id", "protocol_violation"),
        ("schema", "schema_violation"),
    ],
)
def test_protocol_errors_abort_and_close_1008(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes], step: str, expected: str
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    frame = jpeg_frames[0]
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        send_frames(ws, capture, jpeg_frames[:2])
        if step == "seq_gap":
            ws.send_text(capture.meta(4, len(frame)))
        elif step == "time_backwards":
            ws.send_text(capture.meta(3, len(frame), timestamp_frame=iso(capture.start)))
        elif step == "short_bytes":
            ws.send_text(capture.meta(3, len(frame)))
            ws.send_bytes(frame[:-1])
        elif step == "text_instead_of_bytes":
            ws.send_text(capture.meta(3, len(frame)))
            ws.send_text(capture.close())
        elif step == "bytes_without_meta":
            ws.send_bytes(frame)
        elif step == "other_capture_id":
            ws.send_text(Capture(session_id, start=capture.start).meta(3, len(frame)))
        elif step == "second_open":
            ws.send_text(Capture(session_id).open())
        elif step == "reused_message_record_id":
            ws.send_text(capture.meta(3, len(frame), record_id=capture.record_id))
        else:
            ws.send_text(capture.meta(3, -5))
        error_code, code = aborted(ws)
    assert (error_code, code) == (expected, 1008)
    assert_nothing_recorded(settings, session_id)


def test_malformed_json_closes_1003(client: TestClient, settings: Settings, jpeg_frames: list[bytes]) -> None:
    with client.websocket_connect(PATH) as ws:
        ws.send_text("{not json")
        [abort], code = outcome(ws)  # never a bare close: the abort says why, with no capture to name
        assert (abort["event"], abort["error_code"], abort["capture_id"], code) == (
            "capture.abort",
            "malformed_json",
            None,
            1003,
        )
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        send_frames(ws, capture, jpeg_frames[:1])
        ws.send_text('{"event": "capture.frame_meta",')
        assert aborted(ws) == ("malformed_json", 1003)
    assert_nothing_recorded(settings, session_id)


def test_schema_error_before_open_aborts_naming_the_fields_then_closes_1008(client: TestClient) -> None:
    with client.websocket_connect(PATH) as ws:
        ws.send_text(json.dumps({"event": "capture.open", "capture_id": "x"}))
        [abort], code = outcome(ws)
    assert (abort["error_code"], code) == ("schema_violation", 1008)
    named = {field["field"] for field in abort["fields"]}
    assert {"capture_id", "record_id", "timestamp_start"} <= named and "capture_id" in abort["message"]
    assert abort["capture_id"] is None and abort["record_id"] is None
    with client.websocket_connect(PATH) as ws:
        ws.send_bytes(b"\xff\xd8")
        [abort], code = outcome(ws)
    assert (abort["error_code"], code) == ("protocol_violation", 1008)


@pytest.mark.parametrize("which", ["meta_to_bytes_timeout", "idle_timeout"])
def test_timeouts_abort(client: TestClient, settings: Settings, jpeg_frames: list[bytes], which: str) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        send_frames(ws, capture, jpeg_frames[:1])
        if which == "meta_to_bytes_timeout":
            ws.send_text(capture.meta(2, len(jpeg_frames[1])))
        error_code, code = aborted(ws)  # the server gives up on its own
    assert (error_code, code) == (which, 1008)
    assert_nothing_recorded(settings, session_id)


def test_dropped_connection_mid_capture_records_nothing(
    client: TestClient, settings: Settings, jpeg_frames: list[bytes]
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(capture.open())
        send_frames(ws, capture, jpeg_frames[:4])
        ws.close(1001)
    # The same record_id is still free: a full capture with it succeeds, so nothing was kept or reserved.
    retry = Capture(session_id, record_id=capture.record_id)
    with client.websocket_connect(PATH) as ws:
        ws.send_text(retry.open())
        send_frames(ws, retry, jpeg_frames[:3])
        ws.send_text(retry.close())
        messages, code = outcome(ws)
    assert code == 1000 and messages[0]["event"] == "capture.result"
    assert [p.name for p in feature_files(settings, session_id)] == [f"{capture.record_id}.npz"]
    assert sum(e["record_id"] == capture.record_id for e in events_of(settings, session_id)) == 1
