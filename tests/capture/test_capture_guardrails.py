"""Every capture guardrail answers a clear 4xx naming the field, and leaves no file and no event."""

from __future__ import annotations

import json

import cv2
import pytest

from a3cp.config import MAX_CAPTURE_BYTES, MAX_FRAME_BYTES, MAX_FRAMES
from bench.client import CAPTURE_PATH, capture_meta, multipart, request_body, start_session
from bench.person import person_frames, portrait_on_canvas
from tests.fixtures.recorded import feature_events, feature_files

SHORT = person_frames(4)


def _assert_nothing_recorded(settings):
    assert feature_files(settings) == []
    assert feature_events(settings) == []
    # The databases (projection, credentials) and their WAL files are not what a capture leaves.
    databases = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm")
    leftovers = [p for p in settings.data_root.rglob("*") if p.is_file() and not p.name.endswith(databases)]
    assert leftovers == []


def _fields(response) -> set[str]:
    body = response.json()
    assert set(body) >= {"error", "message", "fields"}
    return {f["field"] for f in body["fields"]}


@pytest.mark.parametrize(
    ("overrides", "field", "frame_count"),
    [
        ({"timestamp_end": "2026-11-24T10:00:02.999Z"}, "timestamp_end", 4),  # 1.999 s < 2 s
        ({"timestamp_end": "2026-11-24T10:02:01.001Z"}, "timestamp_end", 4),  # > 120 s
        ({"fps": 16}, "meta.fps", 4),
        ({"fps": 0}, "meta.fps", 4),
        ({"width": 641}, "meta.width", 4),
        ({"width": 640, "height": 481}, "width", 4),  # over 640x480 pixels
        ({"frame_count": 32}, "frame_count", 32),  # > 3 s x 10 fps (+1)
        ({"frame_count": 1801}, "meta.frame_count", 4),
        ({"frame_timestamps_ms": [3, 2, 1, 0]}, "frame_timestamps_ms", 4),
        ({"frame_timestamps_ms": [1795514401000] * 3}, "frame_timestamps_ms", 4),
        ({"timestamp_start": "2026-11-24 10:00:01"}, "meta.timestamp_start", 4),
        ({"record_id": "not-a-uuid"}, "meta.record_id", 4),
        ({"session_id": "../../etc"}, "meta.session_id", 4),
        ({"user_id": "a/b"}, "meta.user_id", 4),
        ({"performer_id": 7}, "meta.performer_id", 4),  # null or omitted: the account (tests/accounts)
        ({"annotation": {"intent": ""}}, "meta.annotation.intent", 4),
        ({"unexpected": 1}, "meta.unexpected", 4),
    ],
)
def test_meta_guardrails(
    settings, client, session_id, post_capture, overrides, field, frame_count, reliability_report
):
    meta = {**capture_meta(session_id, frames=frame_count), **overrides}
    response = post_capture(meta, SHORT)
    assert response.status_code == 400, response.text
    assert field in _fields(response)
    _assert_nothing_recorded(settings)
    reliability_report.add(
        f"Capture upload, meta lie or bad value: {json.dumps(overrides)[:80]} (4 real frames)",
        1,
        f"{response.status_code} {response.json()['error']} naming {field}; no file, no event",
    )


def test_missing_session_id_is_400(settings, session_id, post_capture):
    meta = capture_meta(session_id, frames=4)
    del meta["session_id"]
    response = post_capture(meta, SHORT)
    assert response.status_code == 400 and "meta.session_id" in _fields(response)
    _assert_nothing_recorded(settings)


def test_unknown_session_is_404_and_closed_session_is_409(settings, client, session_id, post_capture):
    response = post_capture(capture_meta("sess_unknown", frames=4), SHORT)
    assert response.status_code == 404 and "session_id" in _fields(response)
    client.post("/session_manager/sessions.end", json=request_body(session_id=session_id))
    response = post_capture(capture_meta(session_id, frames=4), SHORT)
    assert response.status_code == 409 and "session_id" in _fields(response)
    _assert_nothing_recorded(settings)


def test_another_users_session_is_refused(settings, client, post_capture):
    other = start_session(client, "someone_else")
    response = post_capture(capture_meta(other, frames=4), SHORT)
    assert response.status_code == 400 and "user_id" in _fields(response)
    _assert_nothing_recorded(settings)


@pytest.mark.parametrize(
    ("mangle", "status", "field"),
    [
        (lambda frames: frames[:2] + [b""] + frames[3:], 400, "frame[2]"),
        (lambda frames: frames[:1] + [frames[1][: len(frames[1]) // 2]] + frames[2:], 400, "frame[1]"),
        (lambda frames: frames[:3] + [b"GIF89a not an image"], 400, "frame[3]"),
        (lambda frames: frames[:1] + [person_frames(1, 160, 160)[0]] + frames[2:], 400, "frame[1]"),
        (lambda frames: frames[:3], 400, "frame_count"),  # meta says 4, 3 arrive
        (lambda frames: frames + frames[:1], 400, "frame_count"),  # 5 arrive
    ],
    ids=["zero-byte", "truncated-jpeg", "not-an-image", "wrong-size", "fewer-frames", "more-frames"],
)
def test_frame_problems(
    settings, session_id, post_capture, mangle, status, field, reliability_report, request
):
    response = post_capture(capture_meta(session_id, frames=4), mangle(list(SHORT)))
    assert response.status_code == status, response.text
    assert field in _fields(response)
    _assert_nothing_recorded(settings)
    reliability_report.add(
        f"Capture upload, frame problem: {request.node.callspec.id} (meta says 4 real frames)",
        1,
        f"{response.status_code} {response.json()['error']} naming {field}; no file, no event",
    )


def test_png_bomb_is_refused_before_decoding(settings, session_id, post_capture, reliability_report):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    response = post_capture(capture_meta(session_id, frames=4), [*SHORT[:3], bomb])
    assert response.status_code == 400 and "frame[3]" in _fields(response)
    _assert_nothing_recorded(settings)
    reliability_report.add(
        "Capture upload, PNG bomb: a frame declaring 100000x100000 pixels in a 1 KB file",
        1,
        f"{response.status_code} {response.json()['error']} naming frame[3], not decoded; no file, no event",
    )


def test_meta_must_come_first_and_exist(settings, client, session_id):
    only_frames = [("frame", ("0.jpg", SHORT[0], "image/jpeg"))]
    response = client.post(CAPTURE_PATH, files=only_frames)
    assert response.status_code == 400 and "meta" in _fields(response)
    response = client.post(CAPTURE_PATH, files=multipart("{not json", SHORT))
    assert response.status_code == 400 and "meta" in _fields(response)
    response = client.post(CAPTURE_PATH, content=b"{}", headers={"content-type": "application/json"})
    assert response.status_code == 415 and "content-type" in _fields(response)
    _assert_nothing_recorded(settings)


def test_oversized_frame_part_is_413_while_streaming(settings, session_id, post_capture):
    huge = SHORT[0] + b"\0" * MAX_FRAME_BYTES
    response = post_capture(capture_meta(session_id, frames=4), [*SHORT[:3], huge])
    assert response.status_code == 413 and "body" in _fields(response)
    _assert_nothing_recorded(settings)


def test_oversized_body_is_413_without_reading_it_whole(settings, client, session_id):
    meta = json.dumps(capture_meta(session_id, frames=4)).encode()
    boundary = "b0undary"
    sent = 0

    def body():
        nonlocal sent
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'.encode()
        yield head + meta + b"\r\n"
        chunk = f'--{boundary}\r\nContent-Disposition: form-data; name="frame"\r\n\r\n'.encode() + b"\0" * (
            1 << 20
        )
        while sent < 2 * MAX_CAPTURE_BYTES:
            sent += len(chunk)
            yield chunk

    response = client.post(
        CAPTURE_PATH, content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status_code == 413
    _assert_nothing_recorded(settings)
    declared = client.post(
        CAPTURE_PATH,
        content=b"x",
        headers={
            "content-type": f"multipart/form-data; boundary={boundary}",
            "content-length": str(MAX_CAPTURE_BYTES + 1),
        },
    )
    assert declared.status_code == 413


def test_reused_record_id_is_409_and_overwrites_nothing(settings, client, session_id, frames, post_capture):
    meta = capture_meta(session_id)
    assert post_capture(meta, frames).status_code == 201
    [path] = feature_files(settings)
    before = path.read_bytes()
    retry = post_capture(dict(meta, timestamp_end="2026-11-24T10:00:04.500Z"), frames[::-1])
    assert retry.status_code == 409 and "record_id" in _fields(retry)
    other_session = start_session(client, "elias02")  # elias01 has one active session at a time
    reused_elsewhere = post_capture(
        capture_meta(other_session, user_id="elias02", record_id=meta["record_id"]), frames
    )
    assert reused_elsewhere.status_code == 409
    assert path.read_bytes() == before and feature_files(settings) == [path]
    assert len(feature_events(settings)) == 1


def test_the_longest_capture_of_real_480p_frames_fits_under_the_body_cap() -> None:
    """1800 frames (120 s x 15 fps) of the real-person fixture at 640x480, JPEG quality 90, with their
    multipart headers, stay under MAX_CAPTURE_BYTES: a legitimate maximum capture is never a 413."""
    sample = [
        cv2.imencode(".jpg", portrait_on_canvas(640, 480, dx), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].nbytes
        for dx in (-12, 0, 12)
    ]
    part_headers = 256  # boundary, Content-Disposition and Content-Type of one frame part, generously
    longest = MAX_FRAMES * (max(sample) + part_headers)
    assert longest < MAX_CAPTURE_BYTES, (longest, sample)
