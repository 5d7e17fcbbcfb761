"""Sequence distance between representations: multivariate dynamic time warping (dtaidistance's C
implementation; squared-Euclidean frame cost, square root of the path sum) inside a Sakoe-Chiba band of
`window` frames, with `psi` frames of free start and end (psi relaxation) so that a take which begins or
ends a little early or late is not charged for the frames outside the movement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from dtaidistance import dtw_ndim  # type: ignore[import-untyped]

from a3cp.recognition.representation import Array


@dataclass(frozen=True)
class DistanceParams:
    window: int = 12
    psi: int = 4


def cross(rows: Sequence[Array], columns: Sequence[Array], params: DistanceParams) -> Array:
    """`(len(rows), len(columns))` matrix of distances from each of `rows` to each of `columns`."""
    if not rows or not columns:
        return np.zeros((len(rows), len(columns)))
    series = [*rows, *columns]
    block = ((0, len(rows)), (len(rows), len(series)))
    matrix = dtw_ndim.distance_matrix_fast(
        series, window=params.window, psi=params.psi or None, block=block, parallel=False
    )
    return np.asarray(matrix[: len(rows), len(rows) :], dtype=np.float64)
