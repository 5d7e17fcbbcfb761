"""Reading and indexing session logs for the projection: per log, and for a rebuild in worker processes.

`index_read` turns one log read into what the projection writes: an index row per event with a valid
envelope (projections/envelope.py) and the session fold's steps (starts and ends as typed events,
every other event as the timestamp that touches its session). `indexed_shares` does that for every
log of a rebuild, a share of logs at a time, either in this process or in `jobs` worker processes
that read their share through the store and send back only those compact results (index rows already
sorted by record_id), so the writing process folds and inserts one share while the workers parse the
next ones: reading, parsing and the envelope check were most of a rebuild's time (docs/benchmarks.md).

Workers are never forked from the calling process, which may be a server with threads running
(projections/guard.py): they are forked from multiprocessing's fork server, a single-threaded
process started fresh (not forked) that has imported this module once, and which stays idle for
the rest of the calling process's life. Workers die with the process that started them, however
it ends (a pipe only it holds open; tests/speed/test_rebuild_workers_crash.py).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from a3cp.domain.events import RecordedEvent, parse_event
from eventstore import LogRead, SessionLogStore
from projections.apply import FOLDED_KINDS
from projections.envelope import has_valid_envelope

IndexRow = tuple[str, int, int, int]  # record_id, log_id, log_offset, log_position
# session_id, then a start or end to fold, or the timestamp of an event that only touches the session
FoldStep = tuple[str, RecordedEvent | str]
Checkpoint = tuple[int, int, int]  # end_offset, position, log_id
# Below this many bytes of logs a rebuild runs in process: starting workers (a fresh interpreter
# importing the domain models each) costs more than the parsing they would share.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
SHARES_PER_JOB = 8  # enough shares to keep every worker busy while the writer takes the previous one


def index_read(
    read: LogRead, log_id: int, position: int, records: list[IndexRow], steps: list[FoldStep]
) -> None:
    """Append `read`'s index rows to `records` and its fold steps to `steps`; the first event of the
    read is at `position` of the log. Consecutive touches of one session become one step (the later
    of their timestamps: a touch keeps the latest activity, so two in a row equal one at the max)."""
    for index, (record, offset) in enumerate(zip(read.events, read.offsets, strict=True)):
        if not has_valid_envelope(record):  # a line without a valid envelope counts for the position only
            continue
        records.append((record["record_id"].lower(), log_id, offset, position + index))
        session_id = record["session_id"]
        if record["event"] in FOLDED_KINDS:
            steps.append((session_id, _typed(record)))
            continue
        timestamp = record["timestamp"]
        if steps and steps[-1][0] == session_id and isinstance(last := steps[-1][1], str):
            steps[-1] = (session_id, max(last, timestamp))
        else:
            steps.append((session_id, timestamp))


def _typed(record: dict[str, Any]) -> RecordedEvent:
    event = parse_event(record)
    assert event is not None, "has_valid_envelope agrees with parse_event"
    return event


@dataclass
class IndexedShare:
    """Some whole logs, read from their first byte and indexed: rows sorted by record_id (of two rows
    with one record_id, the one of the lower log_id and offset sorts first), fold steps and
    checkpoints in log order, and what was read."""

    records: list[IndexRow] = field(default_factory=list)
    steps: list[FoldStep] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    events: int = 0
    torn: int = 0


def index_share(store: SessionLogStore, share: list[tuple[str, int]]) -> IndexedShare:
    """Read and index the logs of `share` ((name, log_id) pairs) from their first byte."""
    indexed = IndexedShare()
    for name, log_id in share:
        read = store.read_from(name, 0)
        index_read(read, log_id, 0, indexed.records, indexed.steps)
        indexed.checkpoints.append((read.end_offset, len(read.events), log_id))
        indexed.events += len(read.events)
        indexed.torn += len(read.torn)
    indexed.records.sort()
    return indexed


def worker_count(store: SessionLogStore, jobs: int | None) -> int:
    """How many worker processes a rebuild of `store` uses: `jobs` (default: the CPUs this process
    may run on), or none (0: in process) for one job, a store that cannot be sent to another process
    (one held in memory), or logs too small to be worth it."""
    wanted = jobs if jobs is not None else len(os.sched_getaffinity(0))
    if wanted <= 1 or sum(size for _, size in store.log_sizes()) < PARALLEL_MIN_BYTES:
        return 0
    try:
        pickle.dumps(store)
    except (pickle.PicklingError, TypeError, AttributeError):
        return 0
    return wanted


def indexed_shares(
    store: SessionLogStore, logs: list[tuple[str, int]], workers: int
) -> Iterator[IndexedShare]:
    """Every log of `logs` ((name, log_id) pairs) indexed, in shares, in order; in `workers` processes
    (0: in this one)."""
    shares = _split(logs, max(workers, 1) * SHARES_PER_JOB)
    if workers == 0:
        for share in shares:
            yield index_share(store, share)
        return
    context = multiprocessing.get_context("forkserver")
    # The fork server imports this module once; each worker is then a cheap fork of it, not a fresh
    # interpreter importing the domain models again (~1 s of CPU each here).
    context.set_forkserver_preload([__name__])
    lifeline, keep_alive = context.Pipe(duplex=False)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(store, lifeline)
    )
    try:
        pending: deque[Future[IndexedShare]] = deque()
        for share in shares:
            pending.append(pool.submit(_index_worker_share, share))
            if len(pending) > 2 * workers:  # a bounded read-ahead: results wait in memory
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        keep_alive.close()
        lifeline.close()


def _split(logs: list[tuple[str, int]], count: int) -> list[list[tuple[str, int]]]:
    size = -(-len(logs) // count) or 1
    return [logs[start : start + size] for start in range(0, len(logs), size)]


_worker_store: SessionLogStore | None = None


def _start_worker(store: SessionLogStore, lifeline: Connection) -> None:
    """A worker's start: keep the store it reads from, and die with the process that started the pool.
    Only that process holds the other end of `lifeline`, so reading it ends (EOF) exactly when that
    process is gone, however it died; the fork server, the worker's parent, would keep it waiting on
    its task queue forever (it exits only once its children have)."""
    global _worker_store
    gc.disable()  # as in the writer (store._gc_paused): a share's many row tuples hold no cycles
    _worker_store = store
    threading.Thread(target=_exit_when_closed, args=(lifeline,), daemon=True).start()


def _exit_when_closed(lifeline: Connection) -> None:
    try:
        lifeline.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _index_worker_share(share: list[tuple[str, int]]) -> IndexedShare:
    assert _worker_store is not None, "set by _start_worker"
    return index_share(_worker_store, share)
