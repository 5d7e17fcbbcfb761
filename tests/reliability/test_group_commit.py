"""Group commit: threads appending to one log share flushes, yet each returns only once its own line is
durable, a write failure reaches only the callers whose lines it stopped, and several processes with
several threads each still interleave whole lines in each writer's order."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from events import make_event

from eventstore import append_event, read_log, recorder

pytestmark = pytest.mark.fast

THREADS = 8
FORK = multiprocessing.get_context("fork")


def _recorder_os(**replacements: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: getattr(os, name) for name in dir(os)} | replacements)


def test_concurrent_appends_share_flushes_and_return_only_once_durable(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "audit.jsonl"
    durable = [0]  # the file size the last completed fdatasync covered
    flushes = []

    def slow_fdatasync(fd: int) -> None:
        size = os.fstat(fd).st_size
        time.sleep(0.05)  # a slow disk: the other threads queue behind this flush
        os.fdatasync(fd)
        flushes.append(size)
        durable[0] = max(durable[0], size)

    monkeypatch.setattr(recorder, "os", _recorder_os(fdatasync=slow_fdatasync))
    start = threading.Barrier(THREADS)

    def append(index: int) -> tuple[int, int]:
        start.wait()
        result = append_event(log, make_event(n=index))
        line_end = log.read_bytes().index(b"\n", result.offset) + 1
        assert line_end <= durable[0], "returned before its line was flushed"
        return result.offset, index

    with ThreadPoolExecutor(THREADS) as pool:
        placed = list(pool.map(append, range(THREADS)))

    read = read_log(log)
    assert read.torn == [] and sorted(e["n"] for e in read.events) == list(range(THREADS))
    assert dict(placed) == {
        offset: event["n"] for offset, event in zip(read.offsets, read.events, strict=True)
    }
    assert len(flushes) < THREADS  # some appends shared a flush


def test_a_failed_line_in_a_batch_fails_its_caller_and_keeps_the_others(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "audit.jsonl"
    append_event(log, make_event(n=-1))
    gate = threading.Event()

    def fdatasync(fd: int) -> None:
        gate.wait(5)  # the first flush holds the lock until every other thread has queued
        os.fdatasync(fd)

    def write(fd: int, data: bytes) -> int:
        if b'"n":3' in bytes(data):
            os.write(fd, bytes(data[:10]))  # part of the line, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)

    monkeypatch.setattr(recorder, "os", _recorder_os(fdatasync=fdatasync, write=write))

    def append(index: int) -> int | OSError:
        try:
            return append_event(log, make_event(n=index)).offset
        except OSError as exc:
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(append, index) for index in range(THREADS)]
        time.sleep(0.3)
        gate.set()
        outcomes = {index: future.result() for index, future in enumerate(futures)}

    read = read_log(log)
    assert read.torn == [] and log.read_bytes().endswith(b"\n")
    written = {event["n"]: offset for event, offset in zip(read.events, read.offsets, strict=True)}
    assert isinstance(outcomes[3], OSError) and outcomes[3].errno == errno.ENOSPC
    for index, outcome in outcomes.items():
        if isinstance(outcome, OSError):
            assert index not in written  # a caller told it failed has no line in the log
        else:
            assert written[index] == outcome  # a caller told it succeeded has its line where it was told
    monkeypatch.undo()
    append_event(log, make_event(n=99))
    assert read_log(log).events[-1]["n"] == 99 and read_log(log).torn == []


def _threads_appending(log: Path, process: int, appends: int, barrier) -> None:
    barrier.wait()

    def thread(index: int) -> None:
        for seq in range(appends):
            append_event(log, make_event(writer=f"{process}-{index}", seq=seq))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(thread, range(4)))


def test_processes_with_threads_append_whole_lines_in_each_writers_order(tmp_path: Path) -> None:
    log, processes, appends = tmp_path / "shared.jsonl", 3, 40
    barrier = FORK.Barrier(processes)
    workers = [
        FORK.Process(target=_threads_appending, args=(log, p, appends, barrier)) for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    read = read_log(log)
    assert read.torn == [] and len(read.events) == processes * 4 * appends
    for writer in {event["writer"] for event in read.events}:
        assert [e["seq"] for e in read.events if e["writer"] == writer] == list(range(appends))
