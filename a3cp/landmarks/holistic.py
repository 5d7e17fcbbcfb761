"""MediaPipe Holistic (legacy solutions API, mediapipe 0.10.21, model_complexity=1) as a per-capture tracker.

A tracker is created for one capture and closed with it, so tracking state never crosses captures.
It runs in video mode (static_image_mode=False) across that capture's frames. The models ship inside
the mediapipe wheel; model_complexity 0 and 2 would try to download a model, so only 1 is used.
"""

from __future__ import annotations

from typing import Any

import mediapipe as mp  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from a3cp.landmarks.layout import PARTS, FeatureRow, empty_row, fill_part

MEDIAPIPE_VERSION = mp.__version__
MODEL_COMPLEXITY = 1
_RESULT_FIELDS = {
    "pose": "pose_landmarks",
    "face": "face_landmarks",
    "left_hand": "left_hand_landmarks",
    "right_hand": "right_hand_landmarks",
}


def _coordinates(landmark_list: Any, with_visibility: bool) -> list[tuple[float, ...]] | None:
    if landmark_list is None:
        return None
    if with_visibility:
        return [(lm.x, lm.y, lm.z, lm.visibility) for lm in landmark_list.landmark]
    return [(lm.x, lm.y, lm.z) for lm in landmark_list.landmark]


class HolisticTracker:
    """Turns one capture's RGB frames, in order, into feature rows."""

    def __init__(self) -> None:
        self._holistic = mp.solutions.holistic.Holistic(
            static_image_mode=False,
            model_complexity=MODEL_COMPLEXITY,
            smooth_landmarks=True,
            refine_face_landmarks=False,
        )

    def features(self, rgb: npt.NDArray[np.uint8]) -> FeatureRow:
        """One frame (H, W, 3 uint8 RGB) -> one float32 row of the holistic_landmarks_v1 layout."""
        results = self._holistic.process(rgb)
        row = empty_row()
        for part in PARTS:
            landmarks = getattr(results, _RESULT_FIELDS[part.name])
            fill_part(row, part, _coordinates(landmarks, "visibility" in part.values))
        return row

    def close(self) -> None:
        self._holistic.close()
