"""Group commit: threads of one process appending to the same file share one lock and one flush.

A caller queues its bytes for the file. If no thread is writing that file, it becomes the writer: it takes
every payload queued so far and hands them to `write` (one flock, the lines, one fdatasync), then gives
each waiting caller its own outcome. Callers that queue while a flush runs wait for the next writer, which
is one of them. So under load one fdatasync covers many requests (the audit trail is one file that every
request appends to), and a lone caller pays exactly what it paid before: nothing waits for a batch to
fill. Nobody returns before its own bytes are durable, and a failure reaches exactly the callers whose
bytes it concerns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Writes the payloads in order under one lock and one flush: each one's offset, or why it failed.
GroupWriter = Callable[[Path, Sequence[bytes]], list[int | OSError]]


@dataclass
class _Pending:
    payload: bytes
    outcome: int | BaseException | None = None


@dataclass
class _File:
    """The queue of one file; `users` counts the callers inside, so an idle file is forgotten."""

    ready: threading.Condition = field(default_factory=threading.Condition)
    queue: list[_Pending] = field(default_factory=list)
    writing: bool = False
    users: int = 0


_files: dict[Path, _File] = {}
_files_lock = threading.Lock()


def committed(path: Path, payload: bytes, write: GroupWriter) -> int:
    """Append `payload` to `path` through `write`, batched with other threads' payloads for the same
    file; returns the payload's offset once it is durable, or raises the error that stopped it."""
    entry = _enter(path)
    try:
        pending = _Pending(payload)
        with entry.ready:
            entry.queue.append(pending)
            entry.ready.wait_for(lambda: pending.outcome is not None or not entry.writing)
            if pending.outcome is None:  # nobody took it yet: this thread writes the batch
                batch, entry.queue, entry.writing = entry.queue, [], True
        if pending.outcome is None:
            _write_batch(path, batch, write, entry)
    finally:
        _leave(path, entry)
    if isinstance(pending.outcome, BaseException):
        raise pending.outcome
    assert pending.outcome is not None
    return pending.outcome


def _write_batch(path: Path, batch: list[_Pending], write: GroupWriter, entry: _File) -> None:
    outcomes: Sequence[int | BaseException]
    try:
        outcomes = write(path, [pending.payload for pending in batch])
    except BaseException as exc:  # nothing of the batch is known durable: every caller gets the error
        outcomes = [exc] * len(batch)
    with entry.ready:
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome
        entry.writing = False
        entry.ready.notify_all()


def _enter(path: Path) -> _File:
    with _files_lock:
        entry = _files.setdefault(path, _File())
        entry.users += 1
        return entry


def _leave(path: Path, entry: _File) -> None:
    with _files_lock:
        entry.users -= 1
        if entry.users == 0:
            del _files[path]
