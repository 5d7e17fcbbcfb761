"""An export's own description: `manifest.json`, `manifest.csv`, `README.md` and `export.json`.

The manifest holds everything that follows from the data, filters and key (so two such exports give
the same bytes): filters, software and extractor versions, the feature layout, and one entry per
capture with the pseudonymous ids, label, T, fps, duration, capture date, quality per part, the recorded
file's hash, the exported files' paths and hashes, and the consent it relied on. The export's id and
time differ on every run and live apart in `export.json`. No user id, account, reason or time finer
than the capture's date goes in. Pure code: the service writes the bytes these return.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import a3cp
from a3cp.export.formats import ExportedFile, FormatWriter
from a3cp.export.selection import SelectedCapture
from a3cp.landmarks.layout import FEATURE_DIM, LAYOUT_NAME, PARTS

MANIFEST_VERSION = "1"
QUALITY_PARTS = tuple(part.name for part in PARTS)
CSV_COLUMNS = (
    "participant_id",
    "sequence_id",
    "label",
    "status",
    "frames",
    "fps",
    "duration_s",
    "capture_date",
    *(f"quality_{name}" for name in QUALITY_PARTS),
    "face_stored",
    "path",
    "sha256",
    "timestamps_path",
    "timestamps_sha256",
    "source_sha256",
    "encoding",
    "consent_record_id",
)


def canonical_json(value: object) -> bytes:
    """JSON with sorted keys, two-space indent and a final newline: the same value, the same bytes."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def fps_of(encoding: str | None) -> float | None:
    """The capture fps its `encoding` tag names (`holistic_landmarks_v1;fps=15;...`)."""
    for item in (encoding or "").split(";"):
        key, _, value = item.partition("=")
        if key == "fps":
            return float(value)
    return None


def _duration_s(capture: SelectedCapture) -> float | None:
    start, end = capture.event.timestamp_start, capture.event.timestamp_end
    if start is None or end is None:
        return None
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 3)


def capture_entry(
    capture: SelectedCapture,
    participant_id: int,
    sequence_id: int,
    frames: int,
    files: Sequence[ExportedFile],
) -> dict[str, Any]:
    """One capture's entry of the manifest."""
    event = capture.event
    reference = event.raw_features_ref
    quality = event.quality or {}
    by_role = {file.role: file for file in files}
    features = by_role["features"]
    timestamps = by_role.get("timestamps")
    return {
        "participant_id": participant_id,
        "sequence_id": sequence_id,
        "label": capture.label,
        "status": capture.status,
        "frames": frames,
        "fps": fps_of(reference.encoding if reference else None),
        "duration_s": _duration_s(capture),
        "capture_date": (event.timestamp_start or event.timestamp)[:10],
        "quality": {name: quality.get(name) for name in QUALITY_PARTS},
        "face_stored": quality.get("face_stored", True) is not False,
        "path": features.path,
        "sha256": features.sha256,
        "timestamps_path": timestamps.path if timestamps else None,
        "timestamps_sha256": timestamps.sha256 if timestamps else None,
        "source_sha256": reference.hash if reference else None,
        "encoding": reference.encoding if reference else None,
        "consent_record_id": capture.consent_record_id,
    }


def feature_layout() -> dict[str, Any]:
    return {
        "name": LAYOUT_NAME,
        "D": FEATURE_DIM,
        "dtype": "float32",
        "missing": "NaN in every column of a part not detected in a frame (or a face not kept)",
        "columns": [
            {
                "part": part.name,
                "landmarks": part.landmarks,
                "values": list(part.values),
                "start": part.start,
                "stop": part.start + part.width,
            }
            for part in PARTS
        ],
    }


def manifest(
    writer: FormatWriter, filters: dict[str, Any], entries: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The manifest of an export of `entries` (in their export order)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "identity": "export.json holds this export's id and creation time (the only bytes that differ "
        "between two exports of the same data, filters and key)",
        "format": writer.name,
        "filters": filters,
        "software": {"a3cp": a3cp.__version__, **writer.versions()},
        "encodings": sorted({entry["encoding"] for entry in entries if entry["encoding"]}),
        "feature_layout": feature_layout(),
        "timestamps": "timestamps_ms are milliseconds from the capture's start; the capture date is the "
        "only absolute time kept"
        + ("" if writer.name == "npz" else "; the real frame times of each capture are in its sidecar"),
        "pseudonyms": "participant_id and sequence_id are HMAC-SHA256 of the real ids under a key kept by "
        "the deployment, scoped to these filters; they cannot be traced back without that key",
        "captures_count": len(entries),
        "captures": list(entries),
    }


def manifest_csv(entries: Sequence[dict[str, Any]]) -> bytes:
    """The captures as one spreadsheet row each (CSV_COLUMNS; quality flattened per part)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        flat = entry | {f"quality_{name}": entry["quality"][name] for name in QUALITY_PARTS}
        writer.writerow(["" if flat[column] is None else flat[column] for column in CSV_COLUMNS])
    return text.getvalue().encode()


def readme(writer: FormatWriter, count: int) -> bytes:
    """The export's README: terms, layout, how to re-verify."""
    return f"""# A3CP gesture dataset export

{count} captures of gestures, as MediaPipe Holistic landmark features (no images, no video).

## Terms

Every capture here was taken with the recorded consent of the person (or their legal representative)
and goes out because that person's consent to `research` use was in force when this export was made.
Use it only for research on gesture and sign recognition, under the agreement this export was handed
over with. Do not try to identify anyone; do not pass it on; delete it when a participant's consent is
withdrawn and you are told so, or when the research ends.

People are pseudonymous: `participant_id` and `sequence_id` are keyed hashes (HMAC-SHA256) of the real
ids, under a key that never leaves the deployment; without it they cannot be traced back. No names,
account names, free-text notes or times finer than the capture's date are included.

## Layout

{writer.description}

Features follow the layout `holistic_landmarks_v1` (D = 1662 per frame): pose 33 landmarks x (x, y, z,
visibility), face 468 x (x, y, z), left hand 21 x (x, y, z), right hand 21 x (x, y, z); `manifest.json`
has the column map. x and y are normalised to the image (0..1), z is MediaPipe's relative depth.

- `manifest.json`: filters, software and extractor versions, the layout, one entry per capture
  (participant and sequence id, label, frames, fps, duration, capture date, quality per part, the
  sha256 of the recorded file and of each exported file, the consent record it relied on).
- `manifest.csv`: the same captures, one row each.
- `export.json`: this export's id and creation time.

To re-verify: the sha256 of every file listed must equal its `sha256` in the manifest.
""".encode()


def identity(export_id: str, created_at: str) -> bytes:
    """`export.json`: what differs between two runs of the same export."""
    return canonical_json({"export_id": export_id, "created_at": created_at})
