"""`islr`: Google's Kaggle ISLR (asl-signs) layout, written with pyarrow.

`train.csv` (path, participant_id, sequence_id, sign) and `landmark_files/<participant_id>/
<sequence_id>.parquet`, one row per landmark per frame, 543 rows per frame in ISLR's order (face 0-467,
left_hand 0-20, pose 0-32, right_hand 0-20): `frame` int16 (0-based), `row_id` ("frame-type-index"),
`type`, `landmark_index` int16, `x`, `y`, `z` float64 (the recorded float32 values, exactly; NaN where
the part was not detected), and one column ISLR lacks, `visibility` (pose rows: MediaPipe's visibility;
other rows NaN). ISLR has no frame times: `frame` indexes the real ones, kept in a sidecar
`<sequence_id>.timestamps.json` beside each parquet file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from a3cp.export.formats import CaptureData, ExportedFile, timestamps_sidecar, write_file
from a3cp.landmarks.layout import PARTS

ISLR_ORDER = ("face", "left_hand", "pose", "right_hand")
_PART = {part.name: part for part in PARTS}
ROWS_PER_FRAME = sum(_PART[name].landmarks for name in ISLR_ORDER)
assert ROWS_PER_FRAME == 543
_TYPES = np.concatenate([np.full(_PART[name].landmarks, name, dtype=object) for name in ISLR_ORDER])
_INDEXES = np.concatenate([np.arange(_PART[name].landmarks, dtype=np.int16) for name in ISLR_ORDER])
_SUFFIXES = pa.array([f"-{kind}-{index}" for kind, index in zip(_TYPES, _INDEXES, strict=True)])
SCHEMA = pa.schema(
    [
        ("frame", pa.int16()),
        ("row_id", pa.string()),
        ("type", pa.string()),
        ("landmark_index", pa.int16()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("z", pa.float64()),
        ("visibility", pa.float64()),
    ]
)


def landmark_values(features: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
    """(xyz (T, 543, 3), visibility (T, 543)) in ISLR's row order, float32 as recorded."""
    frames = features.shape[0]
    xyz, visibility = [], []
    for name in ISLR_ORDER:
        part = _PART[name]
        values = features[:, part.columns].reshape(frames, part.landmarks, len(part.values))
        xyz.append(values[:, :, :3])
        visibility.append(
            values[:, :, 3] if name == "pose" else np.full((frames, part.landmarks), np.nan, np.float32)
        )
    return np.concatenate(xyz, axis=1), np.concatenate(visibility, axis=1)


def landmark_table(features: npt.NDArray[np.float32]) -> pa.Table:
    """The ISLR table of one capture."""
    frames = features.shape[0]
    xyz, visibility = landmark_values(features)
    frame = np.repeat(np.arange(frames, dtype=np.int16), ROWS_PER_FRAME)
    frame_text = pc.cast(pa.array(frame), pa.string())
    row_id = pc.binary_join_element_wise(frame_text, pa.concat_arrays([_SUFFIXES] * frames), "")
    flat = xyz.reshape(-1, 3).astype(np.float64)
    columns = [
        pa.array(frame),
        row_id,
        pa.array(np.tile(_TYPES, frames), pa.string()),
        pa.array(np.tile(_INDEXES, frames)),
        pa.array(flat[:, 0]),
        pa.array(flat[:, 1]),
        pa.array(flat[:, 2]),
        pa.array(visibility.reshape(-1).astype(np.float64)),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    # Dictionary-encode only `type` (4 values): on the float columns it costs half the time for nothing.
    pq.write_table(table, sink, compression="snappy", use_dictionary=["type"])
    return sink.getvalue()


class IslrWriter:
    name = "islr"
    description = (
        "Kaggle ISLR (asl-signs) layout: `train.csv` (path, participant_id, sequence_id, sign) and "
        "`landmark_files/<participant_id>/<sequence_id>.parquet` with columns frame, row_id "
        "(`frame-type-index`), type (face, left_hand, pose, right_hand), landmark_index, x, y, z "
        "(float64 holding the recorded float32 values exactly, NaN where not detected), 543 rows per "
        "frame in ISLR's order (face 0-467, left_hand, pose, right_hand), plus a `visibility` column "
        "ISLR lacks (MediaPipe's pose visibility on pose rows, NaN elsewhere). `frame` is the 0-based "
        "index into the capture's `timestamps_ms`, kept beside it in `<sequence_id>.timestamps.json`. Read "
        "with `pandas.read_parquet`."
    )

    def write_capture(self, root: Path, capture: CaptureData) -> list[ExportedFile]:
        base = f"landmark_files/{capture.participant_id}/{capture.sequence_id}"
        table = landmark_table(capture.features)
        return [
            write_file(root, base + ".parquet", parquet_bytes(table), "features"),
            timestamps_sidecar(root, base, capture),
        ]

    def finish(self, root: Path, entries: Sequence[dict[str, Any]]) -> list[ExportedFile]:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["path", "participant_id", "sequence_id", "sign"])
        for entry in entries:
            writer.writerow(
                [entry["path"], entry["participant_id"], entry["sequence_id"], entry["label"] or ""]
            )
        return [write_file(root, "train.csv", text.getvalue().encode(), "index")]

    def versions(self) -> dict[str, str]:
        return {"pyarrow": pa.__version__}
