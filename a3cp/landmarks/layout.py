"""Feature layout `holistic_landmarks_v1`: one float32 row of D = 1662 values per frame.

| part       | landmarks | values per landmark          | columns      |
| ---------- | --------- | ---------------------------- | ------------ |
| pose       | 33        | x, y, z, visibility          | 0 .. 131     |
| face       | 468       | x, y, z                      | 132 .. 1535  |
| left hand  | 21        | x, y, z                      | 1536 .. 1598 |
| right hand | 21        | x, y, z                      | 1599 .. 1661 |

x and y are normalised to the image (0..1), z is MediaPipe's relative depth. A part not detected in a
frame is NaN in all its columns (never 0, which is a real coordinate). Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

LAYOUT_NAME = "holistic_landmarks_v1"


@dataclass(frozen=True)
class Part:
    name: str
    landmarks: int
    values: tuple[str, ...]
    start: int

    @property
    def width(self) -> int:
        return self.landmarks * len(self.values)

    @property
    def columns(self) -> slice:
        return slice(self.start, self.start + self.width)


def _parts() -> tuple[Part, ...]:
    spec = [
        ("pose", 33, ("x", "y", "z", "visibility")),
        ("face", 468, ("x", "y", "z")),
        ("left_hand", 21, ("x", "y", "z")),
        ("right_hand", 21, ("x", "y", "z")),
    ]
    parts, start = [], 0
    for name, count, values in spec:
        parts.append(Part(name, count, values, start))
        start += count * len(values)
    return tuple(parts)


PARTS = _parts()
FEATURE_DIM = PARTS[-1].start + PARTS[-1].width
FeatureRow = npt.NDArray[np.float32]  # one frame: FEATURE_DIM float32 values, NaN where not detected
assert FEATURE_DIM == 1662


def empty_row() -> FeatureRow:
    """A frame in which nothing was detected."""
    return np.full(FEATURE_DIM, np.nan, dtype=np.float32)


def fill_part(row: FeatureRow, part: Part, landmarks: Sequence[Sequence[float]] | None) -> None:
    """Write one part's landmarks (rows of `part.values`) into `row`; None leaves it NaN."""
    if landmarks is None:
        return
    values = np.asarray(landmarks, dtype=np.float32)
    if values.shape != (part.landmarks, len(part.values)):
        raise ValueError(f"{part.name}: expected {(part.landmarks, len(part.values))}, got {values.shape}")
    row[part.columns] = values.reshape(-1)


def detection_fractions(features: npt.NDArray[np.float32]) -> dict[str, float]:
    """Per part, the fraction of frames (rows) in which it was detected (not NaN)."""
    frames = features.shape[0]
    if frames == 0:
        return {part.name: 0.0 for part in PARTS}
    return {
        part.name: round(float(np.count_nonzero(~np.isnan(features[:, part.start]))) / frames, 4)
        for part in PARTS
    }
