"""The recorder on real files: reads, torn-tail recovery, durable creation, no symlinks.

(A failed write leaving no trace is tested with the disk-full faults in tests/reliability.)
"""

from __future__ import annotations

import errno
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invariants import assert_event_invariants

from eventstore import (
    TornLine,
    WrongExpectedPosition,
    append_event,
    append_events,
    read_log,
    read_log_from,
    recorder,
)
from eventstore.format import TORN_MARKER, encode_event

pytestmark = pytest.mark.fast


def make_event(n: int = 0) -> dict:
    return {
        "schema_version": "1.0.1",
        "record_id": str(uuid.uuid4()),
        "user_id": "u1",
        "session_id": "s1",
        "timestamp": "2026-11-24T10:00:00.123Z",
        "source": "test",
        "performer_id": "system",
        "event": "test.event",
        "n": n,
    }


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "s1.log"


def test_append_and_read_back(log: Path) -> None:
    events = [make_event(n) for n in range(3)]
    offsets = [append_event(log, e).offset for e in events]
    read = read_log(log)
    assert read.events == events and read.offsets == offsets and read.torn == []
    assert read.end_offset == log.stat().st_size
    for event in read.events:
        assert_event_invariants(event)
    assert read_log_from(log, offsets[1]).events == events[1:]


def test_batch_append_lands_whole_after_existing_events(log: Path) -> None:
    first = make_event(0)
    append_event(log, first)
    batch = [make_event(n) for n in range(1, 4)]
    result = append_events(log, batch, expected_position=1)
    read = read_log(log)
    assert read.events == [first, *batch] and read.offsets[1] == result.offset
    with pytest.raises(WrongExpectedPosition):
        append_events(log, [make_event(9)], expected_position=1)
    with pytest.raises(ValueError):
        append_events(log, [])
    assert read_log(log).events == [first, *batch]


@pytest.mark.parametrize(
    "fragment",
    [
        lambda e: encode_event(e)[:25],  # cut mid-string
        lambda e: encode_event(e)[:-1],  # a whole JSON object, only the newline missing
        lambda e: b"{",
        lambda e: '{"note":"caf\u00e9'.encode()[:-1],  # cut inside a UTF-8 sequence
    ],
    ids=["mid-string", "no-newline", "brace", "mid-utf8"],
)
def test_torn_tail_is_skipped_reported_and_never_becomes_an_event(log: Path, fragment) -> None:
    first = make_event(1)
    append_event(log, first)
    torn_bytes = fragment(make_event(2))
    size = log.stat().st_size
    with open(log, "ab") as handle:  # a crash fragment, written by hand (tests may write logs)
        handle.write(torn_bytes)

    read = read_log(log)
    assert read.events == [first]
    assert read.torn == [TornLine(offset=size, length=len(torn_bytes))]
    assert read.end_offset == size, "an incremental reader must not skip past an unterminated tail"

    second = make_event(3)
    with pytest.raises(WrongExpectedPosition):
        append_event(log, second, expected_position=0)
    result = append_event(log, second, expected_position=1)
    assert result.offset == size + len(torn_bytes) + len(TORN_MARKER)
    data = log.read_bytes()
    assert data[result.offset - 1 : result.offset] == b"\n", "the next event starts on a fresh line"

    for _ in range(2):  # reading again (and after another append) never resurrects the fragment
        read = read_log(log)
        assert read.events[:2] == [first, second]
        assert read.torn == [TornLine(offset=size, length=len(torn_bytes) + len(TORN_MARKER) - 1)]
        append_event(log, make_event(4))
    assert len(read_log(log).events) == 4


def test_creating_a_log_fsyncs_its_directory(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[Path] = []
    real = recorder.fsync_directory

    def spy(directory: Path) -> None:
        synced.append(directory)
        real(directory)

    monkeypatch.setattr(recorder, "fsync_directory", spy)
    append_event(log, make_event())
    append_event(log, make_event())
    assert synced == [log.parent], "fsync the directory once, when the file is created"


def test_an_append_is_synced_to_disk_before_it_returns(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, int]] = []
    real = recorder.os.fdatasync

    def spy(fd: int) -> None:
        real(fd)
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))

    monkeypatch.setattr(recorder.os, "fdatasync", spy)
    append_event(log, make_event())
    append_events(log, [make_event(1), make_event(2)])
    sizes = [len(encode_event(e)) for e in read_log(log).events]
    assert synced == [(str(log), sizes[0]), (str(log), sum(sizes))], "synced after the write, per append"


def test_a_symlinked_log_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    link = tmp_path / "link.log"
    link.symlink_to(target)
    with pytest.raises(OSError) as caught:
        append_event(link, make_event())
    assert caught.value.errno == errno.ELOOP
    assert target.read_bytes() == b""


LOG_DEBRIS = st.sampled_from([b"{}", b"{", b"\n", b'"x"', b"\xff", b" #torn", encode_event(make_event())])


@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(max_size=300) | st.lists(LOG_DEBRIS, max_size=8).map(b"".join))
def test_any_bytes_read_without_crashing_and_the_next_append_lands_whole(garbage: bytes) -> None:
    """Whatever a crash (or a disk) left in the file, reading reports it and appending still works."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "s.log"
        log.write_bytes(garbage)
        before = read_log(log)
        complete_lines = garbage.count(b"\n")
        unterminated = bool(garbage) and not garbage.endswith(b"\n")
        assert len(before.events) + len(before.torn) == complete_lines + unterminated
        event = make_event(9)
        append_event(log, event, expected_position=len(before.events))
        after = read_log(log)
        assert after.events == before.events + [event]
        assert log.read_bytes().startswith(garbage) and log.read_bytes().endswith(b"\n")
