"""Append-only, multi-process-safe writes and tolerant reads of session JSONL logs.

Append protocol: open with O_APPEND (creating the file fsyncs its directory), take an exclusive
`flock`, check the tail (a crash may have left an unterminated fragment, which gets TORN_MARKER
first), optionally check the expected position (optimistic concurrency: the number of valid events
the caller based its decision on), write the whole line with one `write`, fdatasync, release. A line is
never edited or rewritten; only this append's own unterminated fragment is cut off if its write
fails (disk full), so a failed append leaves the log exactly as it was.

Group commit: unconditional appends to the same file from threads of one process are coalesced
(eventstore.group_commit): while one thread holds the lock and flushes, the others queue, and the next
of them writes every queued line under one lock and one fdatasync. Each caller still returns only once
its own line is durable, and a caller whose line failed gets the error; other processes still
serialise on the flock. Conditional appends (an expected position) take the lock alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventstore.durable import exclusive_flock, fsync_directory
from eventstore.format import TORN_MARKER, decode_line, encode_event
from eventstore.group_commit import committed


class WrongExpectedPosition(Exception):
    """The log moved on since the caller read it; re-read and decide again."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected log position {expected}, found {actual}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class TornLine:
    """A line that is not a valid event: a crash fragment, reported and skipped."""

    offset: int
    length: int


@dataclass(frozen=True)
class LogRead:
    """Valid events of a log (with their byte offsets), the torn lines skipped, and where reading stopped.

    `end_offset` is the byte just after the last newline-terminated line: an incremental reader
    resumes there, so an unterminated tail is read again once it is completed or marked.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    torn: list[TornLine] = field(default_factory=list)
    end_offset: int = 0

    @property
    def position(self) -> int:
        return len(self.events)


@dataclass(frozen=True)
class AppendResult:
    """Where an appended event landed: the byte offset of its line."""

    offset: int


def read_log(path: Path) -> LogRead:
    """Read a whole session log; a missing file reads as empty."""
    return read_log_from(path, 0)


def read_log_from(path: Path, start_offset: int) -> LogRead:
    """Read the log from `start_offset` (a previous `end_offset`), skipping and reporting torn lines."""
    try:
        with open(path, "rb") as handle:
            handle.seek(start_offset)
            data = handle.read()
    except FileNotFoundError:
        return LogRead(end_offset=start_offset)
    return parse_log(data, start_offset)


def parse_log(data: bytes, base: int) -> LogRead:
    """Split log bytes that start at byte `base` of their log into events and torn lines."""
    result = LogRead()
    cursor = 0
    end = base
    while cursor < len(data):
        newline = data.find(b"\n", cursor)
        complete = newline != -1
        stop = newline if complete else len(data)
        line = data[cursor:stop]
        event = decode_line(line) if complete else None
        if event is None:
            result.torn.append(TornLine(offset=base + cursor, length=len(line)))
        else:
            result.events.append(event)
            result.offsets.append(base + cursor)
        if not complete:
            break
        cursor = newline + 1
        end = base + cursor
    return LogRead(result.events, result.offsets, result.torn, end)


_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW


def _open_for_append(path: Path) -> int:
    """Open the log, creating it if needed; a new file's directory entry is fsynced before use."""
    while True:
        try:
            return os.open(path, _OPEN_FLAGS)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue  # another process created it between our two opens
        try:
            fsync_directory(path.parent)
        except BaseException:
            os.close(fd)
            raise
        return fd


def _ends_with_fragment(fd: int, size: int) -> bool:
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _write_fully(fd: int, payload: bytes) -> None:
    """Write `payload`, continuing after a short write (we hold the lock, so nothing interleaves)."""
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def _write_lines_or_roll_back(fd: int, lines: bytes, size: int) -> None:
    """Write whole lines; if the write fails part-way (ENOSPC, EIO), cut our unacknowledged fragment off.

    A single line's fragment has no newline, so no reader can have consumed past it. If the cut
    fails too, the fragment stays and the next append marks it as torn.
    """
    try:
        _write_fully(fd, lines)
    except OSError:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass
        raise


def append_event(path: Path, event: dict[str, Any], *, expected_position: int | None = None) -> AppendResult:
    """Durably append one event to the log at `path` (its directory must already exist).

    Raises WrongExpectedPosition, without writing, when `expected_position` is given and the log
    holds a different number of valid events. Returns only once the line is on disk (fdatasync).
    """
    return append_events(path, [event], expected_position=expected_position)


def append_events(
    path: Path, events: Sequence[dict[str, Any]], *, expected_position: int | None = None
) -> AppendResult:
    """Durably append several events as one batch: one write, one fdatasync, all or none of them.

    Same protocol as `append_event`; the result is the offset of the batch's first line. A batch
    that fails part-way is cut back like a single line, but a reader following the log could have
    seen its complete lines before the cut, so batches are for building logs nobody is following
    yet (an import, the corpus of `bench.rebuild`); the service appends one event at a time.
    """
    if not events:
        raise ValueError("append_events needs at least one event")
    payload = b"".join(encode_event(event) for event in events)
    if expected_position is None:
        return AppendResult(offset=committed(path, payload, _write_group))
    with exclusive_flock(_open_for_append(path)) as fd:
        size = _mark_torn_tail(fd)
        current = read_log(path).position
        if current != expected_position:
            raise WrongExpectedPosition(expected_position, current)
        _write_lines_or_roll_back(fd, payload, size)
        os.fdatasync(fd)  # the data and the new file size; fsync would also flush mtime, ~30% slower
    return AppendResult(offset=size)


def _mark_torn_tail(fd: int) -> int:
    """Under the lock: end a crash's unterminated fragment with TORN_MARKER; the size to append at."""
    size = os.fstat(fd).st_size
    if _ends_with_fragment(fd, size):
        _write_fully(fd, TORN_MARKER)
        size += len(TORN_MARKER)
    return size


def _write_group(path: Path, payloads: Sequence[bytes]) -> list[int | OSError]:
    """One lock and one fdatasync for several callers' lines: each payload's offset, or the error that
    kept it from being written (that payload and the later ones are cut back, the earlier ones kept)."""
    outcomes: list[int | OSError] = []
    with exclusive_flock(_open_for_append(path)) as fd:
        size = _mark_torn_tail(fd)
        for payload in payloads:
            try:
                _write_lines_or_roll_back(fd, payload, size)
            except OSError as exc:
                outcomes.extend(exc for _ in range(len(payloads) - len(outcomes)))
                break
            outcomes.append(size)
            size += len(payload)
        os.fdatasync(fd)  # the data and the new file size; fsync would also flush mtime, ~30% slower
    return outcomes
