"""record_id reservations: one record_id is recorded at most once, across sessions, users and processes.

A reservation is the marker file `<DATA_ROOT>/records/<record_id>` naming its owner (user_id and
session_id, as JSON). It appears atomically and already locked: the marker is written to a locked temp
file (a3cp.capture.locked_temp) that is then hard-linked to its name, which fails if the name exists.
The holder keeps the flock while its capture goes from feature file to event; the marker stays once the
event is recorded and is removed when the capture records nothing. A racer with the same record_id
blocks on that flock and then finds one of three things:

- the marker is gone (the holder recorded nothing): it tries again;
- the owner's log holds the record_id: `RecordIdConflict`, and the racer has written nothing;
- the owner's log does not (the holder died between marker and event; the kernel dropped its lock):
  the marker is stale and the racer takes it over, so a crash never blocks a record_id for good.

The check is atomic (link and flock), not check-then-act; logs written before markers existed are
still covered by the writer's own log check and the record index.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from a3cp.capture.locked_temp import locked_temp
from a3cp.domain.errors import RecordIdConflict


@dataclass(frozen=True)
class Owner:
    """The session a record_id was reserved for."""

    user_id: str
    session_id: str

    def encode(self) -> bytes:
        return json.dumps({"user_id": self.user_id, "session_id": self.session_id}).encode()


# Whether `Owner`'s log holds the record_id being reserved.
RecordedIn = Callable[[Owner], bool]


def _owner_of(fd: int) -> Owner | None:
    """The owner a marker names (None when unreadable: a marker without a valid owner is stale)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0))
        return Owner(str(data["user_id"]), str(data["session_id"]))
    except (ValueError, KeyError, TypeError):
        return None


def _write(fd: int, owner: Owner) -> None:
    payload = owner.encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, payload, 0)
    os.fsync(fd)


def _create(marker: Path, owner: Owner) -> int | None:
    """Put a locked marker for `owner` at `marker`; its descriptor, or None when the name exists."""
    fd, temp = locked_temp(marker.parent, marker.name)
    try:
        _write(fd, owner)
        os.link(temp, marker)
    except FileExistsError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    finally:
        temp.unlink(missing_ok=True)
    return fd


def _lock_existing(marker: Path) -> int | None:
    """Wait for the lock of the marker at `marker`; its descriptor, or None if it went away meanwhile."""
    try:
        fd = os.open(marker, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        if os.stat(marker).st_ino == os.fstat(fd).st_ino:
            return fd
    except FileNotFoundError:
        pass
    os.close(fd)  # its holder removed it: the name is free again
    return None


def _acquire(marker: Path, owner: Owner, recorded_in: RecordedIn) -> int:
    while True:
        fd = _create(marker, owner)
        if fd is not None:
            return fd
        fd = _lock_existing(marker)
        if fd is None:
            continue
        previous = _owner_of(fd)
        if previous is not None and recorded_in(previous):
            os.close(fd)
            raise RecordIdConflict("record_id was already used", "record_id")
        _write(fd, owner)  # stale: its holder died before recording; the record_id is free
        return fd


@contextmanager
def reserve(marker: Path, owner: Owner, recorded_in: RecordedIn) -> Iterator[None]:
    """Hold `marker`'s record_id for `owner` while the body records it; released (marker removed)
    if the body raises. Raises RecordIdConflict when the record_id is recorded already."""
    fd = _acquire(marker, owner, recorded_in)
    try:
        yield
    except BaseException:
        marker.unlink(missing_ok=True)  # still under our lock: no racer can see a half state
        raise
    finally:
        os.close(fd)  # releases the lock
