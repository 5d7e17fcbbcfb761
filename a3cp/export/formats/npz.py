"""`npz`: `features/<participant_id>/<sequence_id>.npz` per capture, the recorded layout (`features`
(T, 1662) float32 with NaN, `timestamps_ms` (T,) int64). The features are the recorded array bit for
bit; the recorded file goes out byte for byte when its timestamps are already relative to the capture's
start, else it is re-encoded (np.savez is deterministic) with the relative timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from a3cp.capture.artifact import encode_npz
from a3cp.export.formats import CaptureData, ExportedFile, write_file


class NpzWriter:
    name = "npz"
    description = (
        "`features/<participant_id>/<sequence_id>.npz`: `features` (T, 1662) float32, NaN where a part "
        "was not detected (or its face not kept), and `timestamps_ms` (T,) int64 relative to the capture's "
        "start. Read with `numpy.load(path)`."
    )

    def write_capture(self, root: Path, capture: CaptureData) -> list[ExportedFile]:
        relative = f"features/{capture.participant_id}/{capture.sequence_id}.npz"
        data = (
            capture.recorded
            if capture.recorded_relative
            else encode_npz(capture.features, capture.timestamps_ms)
        )
        return [write_file(root, relative, data, "features")]

    def finish(self, root: Path, entries: Sequence[dict[str, Any]]) -> list[ExportedFile]:
        return []

    def versions(self) -> dict[str, str]:
        return {"numpy": np.__version__}
