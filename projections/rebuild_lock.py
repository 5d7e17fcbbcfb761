"""A rebuild alone against every catch-up, across processes.

A rebuild drops the schema and replays every log in many transactions. A catch-up by another
process between two of them (a server's append listener, its background safety net) would apply
lines that the rebuild then applies again, and on PostgreSQL the two deadlock on the checkpoint rows
(CI saw it: the rebuild updates the rows of several logs in one statement while a catch-up holds one
of them and waits for the rebuild's uncommitted index rows). So every catch-up transaction holds this
lock shared and a rebuild holds it alone, from the drop to its last write:

- PostgreSQL: an advisory lock, shared for the catch-up's transaction, held by the rebuild on a
  connection of its own for as long as it runs;
- SQLite: a flock on `<database>.rebuild-lock`, taken before the write transaction begins (after, a
  catch-up would hold SQLite's write lock while waiting for the rebuild, which needs that lock).

The thread that rebuilds passes through its own shared sections (the rebuild ends by catching up the
consent streams). The kernel or the server drops a dead holder's lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine

from eventstore.durable import exclusive_flock

# pg_advisory_lock's key: any 64-bit number no other user of the database takes ("a3cp" in ASCII)
ADVISORY_KEY = 0x61336370


class RebuildLock:
    """`shared()` around a catch-up's transaction, `enter(conn)` as its first statement; `exclusive()`
    around a rebuild."""

    def __init__(self, engine: Engine, sqlite_path: Path | None) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._file = sqlite_path.with_name(sqlite_path.name + ".rebuild-lock") if sqlite_path else None
        self._local = threading.local()

    def _rebuilding_here(self) -> bool:
        return bool(getattr(self._local, "rebuilding", False))

    @contextmanager
    def shared(self) -> Iterator[None]:
        """SQLite: wait for a rebuild in another process to end and keep it from starting meanwhile."""
        if self._file is None or self._rebuilding_here():
            yield
            return
        fd = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the flock

    def enter(self, conn: Connection) -> None:
        """PostgreSQL: the same, for the rest of `conn`'s transaction (call it before any other statement)."""
        if self._postgres and not self._rebuilding_here():
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock_shared({ADVISORY_KEY})")

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Wait for the catch-ups under way, then keep every other one waiting until the rebuild ends."""
        with self._held():
            self._local.rebuilding = True
            try:
                yield
            finally:
                self._local.rebuilding = False

    @contextmanager
    def _held(self) -> Iterator[None]:
        if self._postgres:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({ADVISORY_KEY})")
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_KEY})")
        elif self._file is not None:
            with exclusive_flock(os.open(self._file, os.O_RDWR | os.O_CREAT, 0o600)):
                yield
        else:
            yield
