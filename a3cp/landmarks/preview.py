"""The live skeleton of a capture in progress: the latest frame's 2-D pose and hand points, at most
PREVIEW_MAX_PER_S times a second (docs/capture.md, `capture.preview`). Pure code: no I/O.

Only x and y (normalised to the image) travel, rounded to PREVIEW_DECIMALS (a tenth of a pixel at 1000
px), so one message stays around 1 KB; the face is not previewed (the review page plays it back).
"""

from __future__ import annotations

import math

from a3cp.landmarks.layout import PARTS, FeatureRow, Part

PREVIEW_MAX_PER_S = 5.0
PREVIEW_DECIMALS = 4
PREVIEW_PARTS = tuple(part for part in PARTS if part.name != "face")
Points = list[tuple[float, float]]


def part_points(row: FeatureRow, part: Part) -> Points | None:
    """One part's (x, y) points in `row`, or None when the part was not found (its columns are NaN)."""
    values = row[part.columns].reshape(part.landmarks, len(part.values))
    if math.isnan(float(values[0, 0])):
        return None
    return [(round(float(x), PREVIEW_DECIMALS), round(float(y), PREVIEW_DECIMALS)) for x, y in values[:, :2]]


def preview_points(row: FeatureRow) -> dict[str, Points | None]:
    """The previewed parts of one frame: pose, left_hand, right_hand (None where not found)."""
    return {part.name: part_points(row, part) for part in PREVIEW_PARTS}


class PreviewThrottle:
    """Lets a preview out at most `per_second` times a second, and only for a frame not sent yet."""

    def __init__(self, per_second: float = PREVIEW_MAX_PER_S) -> None:
        self._interval_s = 1.0 / per_second
        self._last_sent_s: float | None = None
        self._last_frame = -1

    def due(self, now_s: float, frame: int) -> bool:
        """True (and counted as sent) when `frame` is newer than the last sent one and the interval passed."""
        if frame <= self._last_frame:
            return False
        if self._last_sent_s is not None and now_s - self._last_sent_s < self._interval_s:
            return False
        self._last_sent_s = now_s
        self._last_frame = frame
        return True
