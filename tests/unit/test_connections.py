"""The shipped connection lists (web/static/data/connections.json) equal MediaPipe's own."""

from __future__ import annotations

from a3cp.landmarks.connections import from_mediapipe, shipped
from a3cp.landmarks.layout import PARTS


def test_shipped_lists_equal_mediapipes() -> None:
    assert shipped() == from_mediapipe()


def test_every_edge_joins_landmarks_of_its_part() -> None:
    sizes = {part.name: part.landmarks for part in PARTS}
    for name, part in (("pose", "pose"), ("hand", "left_hand"), ("face_contours", "face")):
        edges = shipped()[name]
        assert edges and all(0 <= index < sizes[part] for edge in edges for index in edge), name
