"""The SQLite projection file seen from outside SQLite: where it is, whether it is still the file the
engine opened, whether it holds a usable projection, a cross-process lock, and removing it to rebuild.

Everything here is about derived data only (the projection); the session logs are never touched.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine

from eventstore.durable import exclusive_flock

SQLITE_HEADER = b"SQLite format 3\x00"
FileIdentity = tuple[int, int]
_COMPANIONS = ("-wal", "-shm", "-journal")
_HEADER_LENGTH = 100


def database_path(engine: Engine) -> Path | None:
    """The file of a file-backed SQLite engine; None for PostgreSQL or an in-memory database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).resolve()


def _shorter_than_its_header_says(header: bytes, size: int) -> bool:
    """True when the header's database size (valid when its version-valid-for number equals the change
    counter, as SQLite itself decides) is more than the file holds: a file cut short. Pooled
    connections would keep serving the lost pages from their caches without noticing."""
    if len(header) < _HEADER_LENGTH:
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_is_valid = header[92:96] == header[24:28] and pages > 0
    return size_is_valid and pages * page_size > size


def file_identity(path: Path) -> FileIdentity | None:
    """(device, inode) of `path` if it exists and starts with an intact SQLite header, else None.

    One open, one fstat and one 100-byte read: cheap enough to run before every read. A deleted or
    replaced file has another inode (an open connection would keep using the unlinked one); a file
    overwritten in place or truncated to less than its header's page count has no usable header.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        header = os.pread(fd, _HEADER_LENGTH, 0)
    except OSError:  # a directory in its place, an I/O error
        return None
    finally:
        os.close(fd)
    if not header.startswith(SQLITE_HEADER) or _shorter_than_its_header_says(header, info.st_size):
        return None
    return info.st_dev, info.st_ino


def is_usable(path: Path, tables: tuple[str, ...]) -> bool:
    """True when `path` is an intact SQLite database holding `tables` (read only; O(size), so only
    run on the recovery path)."""
    if file_identity(path) is None:
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                return False
            for table in tables:
                conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchall()
    except sqlite3.Error:
        return False
    return True


def remove(path: Path) -> None:
    """Delete the database file and its WAL, shm and rollback journal (if present)."""
    for suffix in ("", *_COMPANIONS):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive flock on `<path>.lock`, so that processes sharing the file recover it one at a time."""
    with exclusive_flock(os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)):
        yield
