"""The live preview's pure parts: which points a frame's preview carries, and the throttle."""

from __future__ import annotations

import numpy as np

from a3cp.landmarks.layout import PARTS, empty_row, fill_part
from a3cp.landmarks.preview import PREVIEW_MAX_PER_S, PreviewThrottle, preview_points
from a3cp.schemas import CapturePreview

PART = {part.name: part for part in PARTS}


def test_points_are_2d_rounded_and_absent_parts_are_none() -> None:
    row = empty_row()
    pose = np.tile([0.123456, 0.654321, -0.5, 0.9], (33, 1))
    fill_part(row, PART["pose"], pose.tolist())
    fill_part(row, PART["face"], np.full((468, 3), 0.5).tolist())
    fill_part(row, PART["right_hand"], np.full((21, 3), 0.25).tolist())
    points = preview_points(row)
    assert set(points) == {"pose", "left_hand", "right_hand"}  # no face in the preview
    assert points["left_hand"] is None
    assert points["pose"] is not None and len(points["pose"]) == 33
    assert points["pose"][0] == (0.1235, 0.6543)
    assert points["right_hand"] == [(0.25, 0.25)] * 21


def test_a_message_is_small() -> None:
    row = empty_row()
    for name in ("pose", "left_hand", "right_hand"):
        part = PART[name]
        fill_part(row, part, np.random.default_rng(1).random((part.landmarks, len(part.values))).tolist())
    message = CapturePreview(
        schema_version="1.0.1",
        record_id="6f1c2a52-3c41-4c2e-9b1f-1d2b3c4d5e6f",
        user_id="u1",
        session_id="s1",
        timestamp="2026-12-01T10:00:00.000Z",
        capture_id="6f1c2a52-3c41-4c2e-9b1f-1d2b3c4d5e60",
        frame=7,
        **preview_points(row),
    )
    assert len(message.model_dump_json()) < 2_500


def test_throttle_lets_out_at_most_five_a_second_and_never_a_frame_twice() -> None:
    throttle = PreviewThrottle()
    sent = [(t, frame) for t, frame in ((i / 30, i) for i in range(90)) if throttle.due(t, frame)]
    times = [t for t, _ in sent]
    assert 3 * PREVIEW_MAX_PER_S - 1 <= len(sent) <= 3 * PREVIEW_MAX_PER_S + 1  # 3 s of 30 fps
    assert all(b - a >= 1 / PREVIEW_MAX_PER_S - 1e-9 for a, b in zip(times, times[1:], strict=False))
    last_frame = sent[-1][1]
    assert throttle.due(100.0, last_frame) is False  # a frame already sent is not sent again
    assert throttle.due(100.0, last_frame + 1) is True
