"""The feature artifact: `<record_id>.npz` with `features` (T, D) float32 and `timestamps_ms` (T,) int64.

Written atomically: bytes go to a locked temp file in the same directory, are fsynced, then
hard-linked to the final name and the directory is fsynced. A recorded file is never overwritten:
only the holder of the record_id's reservation writes it, and only after checking no event names it.
`np.savez` is deterministic, so the same arrays give byte-identical files and hashes.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from a3cp.capture.locked_temp import locked_temp

ARTIFACT_SUFFIX = ".npz"


@dataclass(frozen=True)
class Artifact:
    path: Path
    digest: str  # "sha256:" + 64 lowercase hex
    created: bool  # False when an identical file was already there (a retried capture)


def encode_npz(features: npt.NDArray[np.float32], timestamps_ms: npt.NDArray[np.int64]) -> bytes:
    buffer = io.BytesIO()
    np.savez(
        buffer, features=features.astype(np.float32, copy=False), timestamps_ms=timestamps_ms.astype(np.int64)
    )
    return buffer.getvalue()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """The sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_artifact(directory: Path, record_id: str, payload: bytes) -> Artifact:
    """Store `payload` as `<record_id>.npz` in `directory`.

    The caller holds the record_id's reservation (a3cp.capture.reservation) and has checked that no
    event of this session names it, so a file already there is either a retry's identical file (kept:
    a crash between this write and the event append) or an orphan with other bytes, which was never
    recorded data and is replaced. The temp file is held locked (a3cp.capture.locked_temp) until it
    has its final name, so the crash-leftover sweep never takes it from a live writer.
    """
    final = directory / f"{record_id}{ARTIFACT_SUFFIX}"
    digest = sha256_digest(payload)
    fd, temp = locked_temp(directory, record_id)
    try:
        with open(fd, "wb", closefd=True) as handle:  # closing releases the lock, after the rename
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            try:
                os.link(temp, final)
                created = True
            except FileExistsError:
                created = file_digest(final) != digest
                if created:
                    os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(directory)
    return Artifact(path=final, digest=digest, created=created)


def remove_artifact(artifact: Artifact) -> None:
    """Undo a file this capture created when its event could not be recorded."""
    if artifact.created:
        artifact.path.unlink(missing_ok=True)
        _fsync_dir(artifact.path.parent)
