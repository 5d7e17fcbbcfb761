"""`pose`: one `.pose` file per capture through the `pose-format` package (sign-language-processing),
`poses/<participant_id>/<sequence_id>.pose`, with its real frame times in `<sequence_id>.timestamps.json`
beside it (a `.pose` body has one constant fps: the capture's).

The header is pose-format's own Holistic one (`holistic_components`, point format XYZC) without
`POSE_WORLD_LANDMARKS`, which is not recorded: POSE_LANDMARKS (33), FACE_LANDMARKS (468),
LEFT_HAND_LANDMARKS (21), RIGHT_HAND_LANDMARKS (21), one person. Coordinates are the recorded float32
values (x, y normalised to the image, dimensions declared 1×1×1), NaN kept where a part was not found;
confidence is 0 there (pose-format masks those points), the visibility for pose points, 1 otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from a3cp.export.formats import CaptureData, ExportedFile, timestamps_sidecar, write_file
from a3cp.landmarks.layout import PARTS

COMPONENTS = ("POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
_PART_OF = dict(zip(COMPONENTS, ("pose", "face", "left_hand", "right_hand"), strict=True))
_PART = {part.name: part for part in PARTS}


def pose_arrays(features: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
    """(data (T, 1, 543, 3), confidence (T, 1, 543)) in the header's component order."""
    frames = features.shape[0]
    data, confidence = [], []
    for component in COMPONENTS:
        part = _PART[_PART_OF[component]]
        values = features[:, part.columns].reshape(frames, part.landmarks, len(part.values))
        found = ~np.isnan(values[:, :, 0])
        data.append(values[:, :, :3])
        seen = np.nan_to_num(values[:, :, 3], nan=0.0) if part.name == "pose" else found.astype(np.float32)
        confidence.append(np.where(found, seen, np.float32(0)).astype(np.float32))
    return (
        np.concatenate(data, axis=1)[:, np.newaxis],
        np.concatenate(confidence, axis=1)[:, np.newaxis],
    )


def pose_bytes(features: npt.NDArray[np.float32], fps: float) -> bytes:
    """The `.pose` file of one capture."""
    from pose_format import Pose, PoseHeader
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import VERSION, PoseHeaderDimensions
    from pose_format.utils.holistic import holistic_components

    components = [c for c in holistic_components("XYZC") if c.name in COMPONENTS]
    assert tuple(c.name for c in components) == COMPONENTS
    header = PoseHeader(VERSION, PoseHeaderDimensions(width=1, height=1, depth=1), components)
    data, confidence = pose_arrays(features)
    sink = io.BytesIO()
    Pose(header, NumPyPoseBody(fps, data, confidence)).write(sink)
    return sink.getvalue()


class PoseWriter:
    name = "pose"
    description = (
        "`poses/<participant_id>/<sequence_id>.pose` (pose-format, its Holistic components POSE_LANDMARKS, "
        "FACE_LANDMARKS, LEFT_HAND_LANDMARKS, RIGHT_HAND_LANDMARKS, point format XYZC, one person): the "
        "recorded float32 coordinates (x, y normalised to the image, so the header declares 1x1x1), NaN "
        "kept where not detected, confidence 0 there, MediaPipe's visibility for pose points, else 1. A "
        "`.pose` file has one constant fps (the capture's); the real frame times are in "
        "`<sequence_id>.timestamps.json` beside it. Read with "
        "`pose_format.Pose.read(open(path, 'rb').read())`."
    )

    def write_capture(self, root: Path, capture: CaptureData) -> list[ExportedFile]:
        base = f"poses/{capture.participant_id}/{capture.sequence_id}"
        return [
            write_file(root, base + ".pose", pose_bytes(capture.features, capture.fps), "features"),
            timestamps_sidecar(root, base, capture),
        ]

    def finish(self, root: Path, entries: Sequence[dict[str, Any]]) -> list[ExportedFile]:
        return []

    def versions(self) -> dict[str, str]:
        return {"pose-format": version("pose_format")}
