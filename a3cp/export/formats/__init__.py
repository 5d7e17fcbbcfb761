"""The export formats: what every writer is handed per capture, what it returns, and the registry.

A writer turns one capture into files under the export's root (paths relative to it, `/`-separated)
and may add files once every capture is written (`finish`: ISLR's `train.csv`). Each file is written
whole from bytes, so its sha256 is known without reading it back, and fsynced before it is described
(the export's folder is renamed into place only once every file in it is durable).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from a3cp.capture.artifact import sha256_digest


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to the export's root
    sha256: str  # "sha256:" + 64 hex, as the recorded files' hashes are written
    role: str  # "features", or a sidecar's role ("timestamps")


@dataclass(frozen=True)
class CaptureData:
    """One capture as every writer sees it: pseudonymous ids, label, the arrays, the recorded bytes."""

    participant_id: int
    sequence_id: int
    label: str | None
    fps: float
    features: npt.NDArray[np.float32]  # (T, 1662), NaN where a part was not detected or not kept
    timestamps_ms: npt.NDArray[np.int64]  # (T,), relative to the capture's start
    recorded: bytes  # the recorded .npz file
    recorded_relative: bool  # its timestamps_ms are already relative: the file can go out as it is


def write_durably(path: Path, data: bytes) -> None:
    """Write `data` at `path` and fsync it: its bytes are on disk once this returns."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_file(root: Path, relative: str, data: bytes, role: str) -> ExportedFile:
    """Write `data` durably at `root/relative` (parents created) and describe it."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, data)
    return ExportedFile(relative, sha256_digest(data), role)


def timestamps_sidecar(root: Path, base: str, capture: CaptureData) -> ExportedFile:
    """`<base>.timestamps.json`: the capture's real frame times (ms from its start), for formats that
    keep none (ISLR) or only a constant fps (`.pose`)."""
    body = json.dumps({"timestamps_ms": capture.timestamps_ms.tolist()}, separators=(",", ":")) + "\n"
    return write_file(root, base + ".timestamps.json", body.encode(), "timestamps")


class FormatWriter(Protocol):
    name: str
    description: str  # the README's paragraph on the layout

    def write_capture(self, root: Path, capture: CaptureData) -> list[ExportedFile]: ...

    def finish(self, root: Path, entries: Sequence[dict[str, Any]]) -> list[ExportedFile]: ...

    def versions(self) -> dict[str, str]: ...


def writer_for(name: str) -> FormatWriter:
    """The writer of format `name` (its libraries imported only now: pyarrow, pose_format)."""
    if name == "npz":
        from a3cp.export.formats.npz import NpzWriter

        return NpzWriter()
    if name == "islr":
        from a3cp.export.formats.islr import IslrWriter

        return IslrWriter()
    if name == "pose":
        from a3cp.export.formats.pose import PoseWriter

        return PoseWriter()
    raise ValueError(f"unknown export format {name!r}")
