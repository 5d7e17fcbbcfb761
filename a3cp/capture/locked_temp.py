"""Temporary files created locked, and the sweep that finds those no live writer holds.

A writer's temp file (`.<stem>.<random>.tmp`, beside its final name) is flocked by its writer from the
moment it exists until it is renamed or removed, so a temp file whose lock can be taken is a crash
leftover: the kernel drops a dead process's locks. A sweep may run while writers work (another process
starting, `a3cp verify --repair`): it never removes a file a writer holds, and a writer whose brand-new
file was swept before it could lock it notices and takes another.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def locked_temp(directory: Path, stem: str) -> tuple[int, Path]:
    """A new temp file in `directory`: its descriptor (open for writing, flocked) and its path."""
    while True:
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=TEMP_SUFFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            still_ours = os.stat(name).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            still_ours = False
        if still_ours:
            return fd, Path(name)
        os.close(fd)  # swept between create and lock: it is no longer a file of ours


def _unheld_temp_files(directory: Path, remove: bool) -> list[Path]:
    found = []
    for path in sorted(directory.glob(f".*{TEMP_SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # its writer finished meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            found.append(path)
            if remove:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return found


def stray_temp_files(directory: Path) -> list[Path]:
    """The temp files in `directory` that no live writer holds (crash leftovers)."""
    return _unheld_temp_files(directory, remove=False) if directory.is_dir() else []


def remove_stray_temp_files(directory: Path) -> list[Path]:
    """Remove the temp files in `directory` no live writer holds; the paths removed."""
    return _unheld_temp_files(directory, remove=True) if directory.is_dir() else []
