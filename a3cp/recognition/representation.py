"""The recognizer's view of a capture: hands and upper body from the 1662 layout, made comparable across
takes (the person's position and size removed, gaps filled, a fixed length) and free of NaN.

Per frame, in shoulder widths from the point between the shoulders (medians over the take):
- upper-body pose: nose, shoulders, elbows, wrists and the pose's own hand points (x, y; pose z is noise);
  the pose estimates these even when a hand detector misses, so the arm's motion is always there;
- each hand's shape: its 21 landmarks relative to its own wrist (x, y, z), so the shape does not repeat the
  arm's motion;
- each hand's presence (1 detected or inside a short gap, 0 not), so a hand missing in some frames costs a
  bounded amount instead of breaking the distance (NaN) or dominating it.

Short detection gaps are interpolated; a hand still missing has its shape set to zeros (all points at the
wrist). The face is not used. The sequence is resampled to a fixed number of frames so that overall speed
does not matter; DTW (`distance`) then absorbs local speed differences. See docs/recognition.md for the
measurements behind each choice. Pure code: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from a3cp.landmarks.layout import FEATURE_DIM, PARTS
from a3cp.recognition.errors import InvalidFeatures

# Feature arrays and representations (float64 inside the recognizer).
Array = npt.NDArray[Any]

_POSE, _LEFT_HAND, _RIGHT_HAND = (PARTS[0], PARTS[2], PARTS[3])
_LEFT_SHOULDER, _RIGHT_SHOULDER = 11, 12
# Nose, shoulders, elbows, wrists and the pose's hand points (pinky, index, thumb).
UPPER_BODY = (0, *range(11, 23))
# MediaPipe pose landmarks that swap when the image is mirrored (left eye <-> right eye, ...): 1-3 with 4-6,
# then each odd landmark from 7 on with the next one.
_POSE_PAIRS = ((1, 4), (2, 5), (3, 6), *((left, left + 1) for left in range(7, 33, 2)))


@dataclass(frozen=True)
class RepresentationParams:
    frames: int = 32  # every take is resampled to this many frames
    max_gap: int = 30  # detection gaps up to this many frames are interpolated (1 s at 30 fps)
    pose_weight: float = 0.3
    shape_weight: float = 3.0
    presence_weight: float = 0.5


def check_features(features: Array, field: str = "features") -> Array:
    """A capture's `(T, 1662)` feature array as float64, or InvalidFeatures naming what is wrong."""
    array = np.asarray(features)
    if array.ndim != 2 or array.shape[1] != FEATURE_DIM or array.shape[0] < 2:
        raise InvalidFeatures(f"{field}: expected shape (T >= 2, {FEATURE_DIM}), got {array.shape}", field)
    if not np.issubdtype(array.dtype, np.floating):
        raise InvalidFeatures(f"{field}: expected floating point values, got {array.dtype}", field)
    if np.isinf(array).any():
        raise InvalidFeatures(f"{field}: infinite values (a missing part is NaN)", field)
    shoulders = array[:, [_LEFT_SHOULDER * 4, _RIGHT_SHOULDER * 4]]
    if np.isnan(shoulders).any(axis=1).all():
        raise InvalidFeatures(f"{field}: no frame shows both shoulders, which the recognizer needs", field)
    return array.astype(np.float64)


def mirrored(features: Array) -> Array:
    """The same take as if seen in a mirror: x flipped, left and right swapped (pose points and hands)."""
    flipped = np.array(features, dtype=np.float64)
    pose = flipped[:, _POSE.columns].reshape(len(flipped), _POSE.landmarks, 4)
    for left, right in _POSE_PAIRS:
        pose[:, [left, right]] = pose[:, [right, left]]
    pose[:, :, 0] = 1.0 - pose[:, :, 0]
    flipped[:, _POSE.columns] = pose.reshape(len(flipped), -1)
    left_hand = flipped[:, _LEFT_HAND.columns].copy()
    flipped[:, _LEFT_HAND.columns] = flipped[:, _RIGHT_HAND.columns]
    flipped[:, _RIGHT_HAND.columns] = left_hand
    for hand in (_LEFT_HAND, _RIGHT_HAND):
        flipped[:, hand.start : hand.start + hand.width : 3] = (
            1.0 - flipped[:, hand.start : hand.start + hand.width : 3]
        )
    return flipped


def _bridged(present: Array, max_gap: int) -> Array:
    """`present` with interior gaps of at most `max_gap` frames marked present too (to be interpolated)."""
    bridged = present.copy()
    frames = np.flatnonzero(present)
    for before, after in zip(frames[:-1], frames[1:], strict=True):
        if after - before <= max_gap + 1:
            bridged[before + 1 : after] = True
    return bridged


def _linear(values: Array, times: Array, targets: Array) -> Array:
    """Rows of `values` (taken at increasing `times`) linearly interpolated at `targets`, edges held; all
    columns at once (np.interp one column at a time costs more than the DTW)."""
    upper = np.clip(np.searchsorted(times, targets), 1, max(len(times) - 1, 1))
    lower = upper - 1
    if len(times) == 1:
        return np.repeat(values[:1], len(targets), axis=0)
    span = times[upper] - times[lower]
    weight = np.clip((targets - times[lower]) / span, 0.0, 1.0)[:, None]
    return np.asarray(values[lower] * (1.0 - weight) + values[upper] * weight, dtype=np.float64)


def _interpolate(values: Array, present: Array) -> Array:
    """Every frame's row interpolated over time from the frames in `present` (edges held)."""
    known = np.flatnonzero(present)
    return _linear(values[known], known.astype(np.float64), np.arange(len(values), dtype=np.float64))


def _resample(values: Array, frames: int) -> Array:
    return _linear(values, np.linspace(0.0, 1.0, len(values)), np.linspace(0.0, 1.0, frames))


def represent(features: Array, params: RepresentationParams, field: str = "features") -> Array:
    """`(params.frames, F)` float64 without NaN for one capture's `(T, 1662)` features."""
    array = check_features(features, field)
    frames = len(array)
    pose = array[:, _POSE.columns].reshape(frames, _POSE.landmarks, 4)[:, UPPER_BODY, :2]
    pose_present = ~np.isnan(pose).any(axis=(1, 2))
    pose = _interpolate(pose.reshape(frames, -1), pose_present).reshape(pose.shape)
    shoulders = pose[:, [UPPER_BODY.index(_LEFT_SHOULDER), UPPER_BODY.index(_RIGHT_SHOULDER)]]
    centre = np.median(shoulders.mean(axis=1), axis=0)
    width = float(np.median(np.linalg.norm(shoulders[:, 0] - shoulders[:, 1], axis=1)))
    if width <= 1e-6:
        raise InvalidFeatures(f"{field}: the shoulders coincide, so the take cannot be scaled", field)
    blocks = [((pose - centre) / width).reshape(frames, -1) * params.pose_weight]
    for hand in (_LEFT_HAND, _RIGHT_HAND):
        points = array[:, hand.columns].reshape(frames, hand.landmarks, 3)
        detected = ~np.isnan(points).any(axis=(1, 2))
        shape = np.zeros((frames, hand.width))
        present = _bridged(detected, params.max_gap)
        if detected.any():
            relative = ((points - points[:, :1]) / width).reshape(frames, -1)
            shape[present] = _interpolate(relative, detected)[present]
        blocks.append(shape * params.shape_weight)
        blocks.append(present[:, None].astype(np.float64) * params.presence_weight)
    return _resample(np.concatenate(blocks, axis=1), params.frames)
