"""The "not sure" threshold of each label, from the user's own examples alone (never from queries).

Leave-one-out over the templates: each example's distance to the nearest other example of its own label
says how far a genuine new take of that label typically lands. A label's threshold is `factor` times the
blend of its own mean leave-one-out distance and the mean over all labels (its own mean alone is noisy with
three to five examples; the pooled mean alone ignores that some gestures vary more than others).

With a single example per label there is no leave-one-out distance: the threshold is then
`single_example_factor` times the distance between the two nearest examples of different labels (a new take
farther than that from everything is unlike the whole vocabulary). One example of one label: no threshold
can be derived and the recognizer never says "not sure" (`math.inf`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from a3cp.recognition.representation import Array


@dataclass(frozen=True)
class CalibrationParams:
    factor: float = 2.0
    label_blend: float = 0.5  # weight of the label's own mean against the pooled mean
    single_example_factor: float = 0.6


def nearest_same_label(distances: Array, labels: Sequence[str]) -> dict[str, list[float]]:
    """Per label, each of its examples' distance to the nearest other example of that label."""
    names = np.asarray(labels)
    result: dict[str, list[float]] = {}
    for index, label in enumerate(labels):
        same = names == label
        same[index] = False
        if same.any():
            result.setdefault(label, []).append(float(distances[index, same].min()))
    return result


def thresholds(distances: Array, labels: Sequence[str], params: CalibrationParams) -> dict[str, float]:
    """Each label's rejection threshold from the `(n, n)` distances between the examples (`labels[i]` is
    example i's label)."""
    leave_one_out = nearest_same_label(distances, labels)
    vocabulary = sorted(set(labels))
    if leave_one_out:
        pooled = float(np.mean([d for values in leave_one_out.values() for d in values]))
        return {
            label: params.factor * _blend(leave_one_out.get(label), pooled, params.label_blend)
            for label in vocabulary
        }
    names = np.asarray(labels)
    between = distances[names[:, None] != names[None, :]]
    if between.size == 0:
        return {label: math.inf for label in vocabulary}
    return {label: params.single_example_factor * float(between.min()) for label in vocabulary}


def _blend(own: list[float] | None, pooled: float, weight: float) -> float:
    return pooled if own is None else weight * float(np.mean(own)) + (1.0 - weight) * pooled
