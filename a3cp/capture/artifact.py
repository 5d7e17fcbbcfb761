"""The feature artifact: `<record_id>.npz` with `features` (T, D) float32 and `timestamps_ms` (T,) int64.

Written atomically and never overwritten: bytes go to a temp file in the same directory, are
fsynced, then hard-linked to the final name (which fails if the name exists) and the directory is
fsynced. `np.savez` is deterministic, so the same arrays give byte-identical files and hashes.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from a3cp.domain.errors import RecordIdConflict

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


@contextmanager
def _opened_directory(directory: Path) -> Iterator[int]:
    """A read-only descriptor of `directory` (to fsync its entries or flock it), closed on exit."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with _opened_directory(directory) as fd:
        os.fsync(fd)


def write_artifact(directory: Path, record_id: str, payload: bytes) -> Artifact:
    """Store `payload` as `<record_id>.npz` in `directory` without ever replacing an existing file.

    An existing file with the same bytes is accepted (a retry after a crash between this write and the
    event append); one with other bytes is a record_id conflict.
    """
    final = directory / f"{record_id}{ARTIFACT_SUFFIX}"
    digest = sha256_digest(payload)
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=f".{record_id}.", suffix=".tmp", delete=False)
    temp = Path(handle.name)
    try:
        with handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, final)
            created = True
        except FileExistsError:
            if file_digest(final) != digest:
                raise RecordIdConflict(
                    "a different feature file already exists for this record_id", "record_id"
                ) from None
            created = False
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(directory)
    return Artifact(path=final, digest=digest, created=created)


@contextmanager
def recording_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on a features directory while one capture goes from file to event.

    Racing captures with the same record_id (other threads or processes) take turns: without it, a racer
    that created the file but lost the event append would delete the file the winner's event points to.
    The lock is an flock on the directory itself (no lock file); the kernel drops it if the holder dies.
    """
    with _opened_directory(directory) as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield  # closing the descriptor releases the lock


def remove_artifact(artifact: Artifact) -> None:
    """Undo a file this capture created when its event could not be recorded."""
    if artifact.created:
        artifact.path.unlink(missing_ok=True)
        _fsync_dir(artifact.path.parent)
