"""The capture policy as a table: every rule's limit case, and how each code answers on both transports.

Pure: no app, no TestClient, no MediaPipe; the whole file runs in milliseconds.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from a3cp.config import (
    MAX_CAPTURE_BYTES,
    MAX_CAPTURE_SECONDS,
    MAX_FPS,
    MAX_FRAME_BYTES,
    MAX_FRAME_PIXELS,
    MAX_FRAMES,
    MIN_CAPTURE_SECONDS,
)
from a3cp.domain.capture_policy import MAX_FRAME_SIDE, CaptureDeclaration, CapturePolicy, max_frames_for
from a3cp.domain.errors import CaptureRejected
from web.error_table import CLOSE_NORMAL, CLOSE_POLICY_VIOLATION, http_status, ws_abort

START = 1_795_514_400_000  # 2026-11-24T10:00:00Z in epoch ms
SECOND = 1000
BASE = CaptureDeclaration(start_ms=START, fps=10, width=320, height=240)


def rejected(action: object) -> CaptureRejected:
    with pytest.raises(CaptureRejected) as caught:
        action()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"fps": 0}, "fps_invalid", "fps"),
        ({"fps": MAX_FPS + 0.5}, "limit_fps_exceeded", "fps"),
        ({"width": MAX_FRAME_SIDE + 1, "height": 100}, "limit_resolution_exceeded", "width"),
        ({"width": 100, "height": MAX_FRAME_SIDE + 1}, "limit_resolution_exceeded", "width"),
        ({"width": 640, "height": 481}, "limit_resolution_exceeded", "width"),
        (
            {"end_ms": START + round(MIN_CAPTURE_SECONDS * SECOND) - 1},
            "limit_duration_too_short",
            "timestamp_end",
        ),
        (
            {"end_ms": START + round(MAX_CAPTURE_SECONDS * SECOND) + 1},
            "limit_duration_exceeded",
            "timestamp_end",
        ),
        ({"end_ms": START + 3 * SECOND, "frame_count": 32}, "limit_frame_count_exceeded", "frame_count"),
        ({"frame_count": MAX_FRAMES + 1}, "limit_frame_count_exceeded", "frame_count"),
        (
            {"frame_count": 4, "frame_timestamps_ms": (START,) * 3},
            "frame_timestamps_mismatch",
            "frame_timestamps_ms",
        ),
        ({"frame_timestamps_ms": (START + 2, START + 1)}, "timestamp_out_of_order", "frame_timestamps_ms"),
        ({"frame_timestamps_ms": (START - 1,)}, "timestamp_out_of_order", "frame_timestamps_ms"),
        (
            {"end_ms": START + 3 * SECOND, "frame_timestamps_ms": (START + 3 * SECOND + 1,)},
            "timestamp_out_of_order",
            "frame_timestamps_ms",
        ),
    ],
)
def test_a_declaration_that_breaks_a_rule_is_refused(
    changes: dict[str, object], code: str, field: str
) -> None:
    error = rejected(lambda: CapturePolicy(replace(BASE, **changes)))  # type: ignore[arg-type]
    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize(
    "changes",
    [
        {"fps": MAX_FPS},
        {"width": 640, "height": 480},
        {"width": 480, "height": 640},  # portrait fits: each side <= 640 and the same pixel count
        {"end_ms": START + round(MIN_CAPTURE_SECONDS * SECOND)},
        {"end_ms": START + round(MAX_CAPTURE_SECONDS * SECOND)},
        {"end_ms": START + 3 * SECOND, "frame_count": 31},  # 3 s x 10 fps + the fence post
    ],
)
def test_a_declaration_at_each_limit_is_accepted(changes: dict[str, object]) -> None:
    CapturePolicy(replace(BASE, **changes))  # type: ignore[arg-type]


def test_one_frame_cap_formula() -> None:
    assert max_frames_for(3, 10) == 31
    assert max_frames_for(MAX_CAPTURE_SECONDS, MAX_FPS) == MAX_FRAMES == 1800
    assert max_frames_for(MAX_CAPTURE_SECONDS, 10) == 1201
    assert CapturePolicy(BASE).max_frames == max_frames_for(MAX_CAPTURE_SECONDS, BASE.fps)
    assert MAX_FRAME_SIDE * 480 == MAX_FRAME_PIXELS


def test_frames_get_their_times_given_declared_or_derived() -> None:
    derived = CapturePolicy(replace(BASE, fps=4))
    assert [derived.admit() for _ in range(3)] == [START, START + 250, START + 500]
    declared = CapturePolicy(replace(BASE, frame_timestamps_ms=(START + 5, START + 7)))
    assert [declared.admit(), declared.admit(timestamp_ms=START + 9)] == [START + 5, START + 9]


def _admit_many(policy: CapturePolicy, count: int) -> None:
    for index in range(count):
        policy.admit(timestamp_ms=START + index)


@pytest.mark.parametrize(
    ("declared", "prepare", "frame", "code", "field"),
    [
        (BASE, 2, {"seq": 4}, "seq_out_of_order", "seq"),
        (BASE, 2, {"seq": 2}, "seq_out_of_order", "seq"),
        (BASE, 2, {"timestamp_ms": START}, "timestamp_out_of_order", "frame[2]"),
        (BASE, 0, {"timestamp_ms": START - 1}, "timestamp_out_of_order", "frame[0]"),
        (
            BASE,
            1,
            {"timestamp_ms": START + round(MAX_CAPTURE_SECONDS * SECOND) + 1},
            "limit_duration_exceeded",
            "frame[1]",
        ),
        (BASE, 0, {"byte_length": MAX_FRAME_BYTES + 1}, "limit_frame_bytes_exceeded", "frame[0]"),
        (replace(BASE, frame_count=2), 2, {}, "frame_count_mismatch", "frame_count"),
        (replace(BASE, frame_timestamps_ms=(START,)), 1, {}, "frame_count_mismatch", "frame_count"),
        (replace(BASE, end_ms=START + 2 * SECOND, fps=1), 3, {}, "limit_frame_count_exceeded", "frame_count"),
    ],
)
def test_a_frame_that_breaks_a_rule_is_refused(
    declared: CaptureDeclaration, prepare: int, frame: dict[str, int], code: str, field: str
) -> None:
    policy = CapturePolicy(declared)
    for index in range(prepare):
        policy.admit(seq=index + 1 if "seq" in frame else None)
    error = rejected(lambda: policy.admit(**frame))
    assert (error.code, error.field) == (code, field)
    assert policy.frames == prepare  # a refused frame is not counted


def test_the_capture_byte_cap_counts_every_frame() -> None:
    policy = CapturePolicy(replace(BASE, fps=MAX_FPS))
    per_frame = MAX_FRAME_BYTES
    whole = MAX_CAPTURE_BYTES // per_frame
    for index in range(whole):
        policy.admit(timestamp_ms=START + index, byte_length=per_frame)
    assert rejected(lambda: policy.admit(byte_length=per_frame)).code == "limit_total_bytes_exceeded"


def test_the_frame_cap_holds_while_frames_stream() -> None:
    policy = CapturePolicy(replace(BASE, fps=MAX_FPS))
    _admit_many(policy, MAX_FRAMES)
    assert (
        rejected(lambda: policy.admit(timestamp_ms=START + MAX_FRAMES)).code == "limit_frame_count_exceeded"
    )


@pytest.mark.parametrize(
    ("declared", "frames", "end", "code"),
    [
        (BASE, 1, None, "timestamp_end_missing"),
        (BASE, 1, START + round(MIN_CAPTURE_SECONDS * SECOND) - 1, "limit_duration_too_short"),
        (BASE, 1, START + round(MAX_CAPTURE_SECONDS * SECOND) + 1, "limit_duration_exceeded"),
        (BASE, 0, START + 3 * SECOND, "no_frames"),
        (replace(BASE, frame_count=3, end_ms=START + 3 * SECOND), 2, None, "frame_count_mismatch"),
    ],
)
def test_closing_checks_the_whole_capture(
    declared: CaptureDeclaration, frames: int, end: int | None, code: str
) -> None:
    policy = CapturePolicy(declared)
    _admit_many(policy, frames)
    assert rejected(lambda: policy.close(end)).code == code


def test_an_end_before_the_last_frame_is_out_of_order() -> None:
    policy = CapturePolicy(BASE)
    policy.admit(timestamp_ms=START + 2500)
    assert rejected(lambda: policy.close(START + 2400)).code == "timestamp_out_of_order"


def test_a_good_capture_closes_at_its_end() -> None:
    policy = CapturePolicy(replace(BASE, frame_count=3, end_ms=START + 3 * SECOND))
    _admit_many(policy, 3)
    assert policy.close() == START + 3 * SECOND
    assert policy.timestamps_ms == [START, START + 1, START + 2]


# One table answers every code on both transports (web/error_table.py).
@pytest.mark.parametrize(
    ("code", "status", "abort", "close"),
    [
        ("limit_duration_exceeded", 400, "limit_duration_exceeded", CLOSE_NORMAL),
        ("limit_duration_too_short", 400, "limit_duration_too_short", CLOSE_NORMAL),
        ("limit_fps_exceeded", 400, "limit_fps_exceeded", CLOSE_NORMAL),
        ("limit_resolution_exceeded", 400, "limit_resolution_exceeded", CLOSE_NORMAL),
        ("limit_frame_count_exceeded", 400, "limit_frame_count_exceeded", CLOSE_NORMAL),
        ("limit_frame_bytes_exceeded", 400, "limit_frame_bytes_exceeded", CLOSE_NORMAL),
        ("limit_total_bytes_exceeded", 400, "limit_total_bytes_exceeded", CLOSE_NORMAL),
        ("frame_count_mismatch", 400, "frame_count_mismatch", CLOSE_NORMAL),
        ("no_frames", 400, "no_frames", CLOSE_NORMAL),
        ("seq_out_of_order", 400, "seq_out_of_order", CLOSE_POLICY_VIOLATION),
        ("timestamp_out_of_order", 400, "timestamp_out_of_order", CLOSE_POLICY_VIOLATION),
        ("frame_decode_failed", 400, "frame_decode_failed", CLOSE_NORMAL),
        ("session_not_found", 404, "session_invalid", CLOSE_NORMAL),
        ("session_user_mismatch", 400, "session_invalid", CLOSE_NORMAL),
        ("session_closed", 409, "session_closed", CLOSE_NORMAL),
        ("record_id_conflict", 409, "record_id_conflict", CLOSE_NORMAL),
        ("extractor_unavailable", 503, "extractor_unavailable", CLOSE_NORMAL),
    ],
)
def test_each_code_answers_on_both_transports(code: str, status: int, abort: str, close: int) -> None:
    assert http_status(code) == status
    assert ws_abort(code) == (abort, close)
