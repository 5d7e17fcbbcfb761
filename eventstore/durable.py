"""File-system primitives the recorder is built on, shared with the other code that must survive a
crash (feature files, the projection's lock file): a directory fsync and an exclusive flock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (a created, linked or removed name) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def exclusive_flock(fd: int) -> Iterator[int]:
    """Hold an exclusive flock on the open `fd` (waiting for it), then close it, which releases the
    lock; the kernel releases it too if the holder dies. Takes ownership of `fd`."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)
