"""Reading and indexing session logs for the projection: per log, and for a rebuild in worker processes.

`index_read` turns one log read into what the projection writes: an index row per event with a valid
envelope (projections/envelope.py) and the session fold's steps (starts and ends as typed events,
every other event as the timestamp that touches its session). `indexed_shares` does that for every
log of a rebuild, a share of logs at a time, either in this process or in `jobs` worker processes
that read their share through the store and send back only those compact results (index rows already
sorted by record_id), so the writing process folds and inserts one share while the workers parse the
next ones: reading, parsing and the envelope check were most of a rebuild's time (docs/benchmarks.md).

Workers are fresh interpreters running this module (`subprocess`: never a fork of the calling
process, which may be a server with threads running, projections/guard.py; and unlike
multiprocessing's, they do not import the caller's main module again). They talk pickles over their
stdin and stdout and die with the process that started them, however it ends: its end of their
stdin closes (tests/speed/test_rebuild_workers_crash.py).
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO, Any

from a3cp.domain.events import RecordedEvent, parse_event
from eventstore import LogRead, SessionLogStore
from projections.apply import FOLDED_KINDS
from projections.envelope import has_valid_envelope

IndexRow = tuple[str, int, int, int]  # record_id, log_id, log_offset, log_position
_RECORD_ID = itemgetter(0)
# session_id, then a start or end to fold, or the timestamp of an event that only touches the session
FoldStep = tuple[str, RecordedEvent | str]
Checkpoint = tuple[int, int, int]  # end_offset, position, log_id
# Below this many bytes of logs a rebuild runs in process: starting workers (a fresh interpreter
# importing the domain models each) costs more than the parsing they would share.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
logger = logging.getLogger("a3cp.projection")
SHARES_PER_JOB = 8  # enough shares to keep every worker busy while the writer takes the previous one
# A share's task (its log names) must fit in a pipe's buffer so that sending the next one never waits
# on a worker that is itself waiting for its result to be read: 256 names of at most about 160 bytes,
# in a buffer of at least TASK_PIPE_BYTES (asked for explicitly: under a user's pipe-memory limit Linux
# makes new pipes one page; a rebuild then parses in process).
MAX_SHARE_LOGS = 256
TASK_PIPE_BYTES = 256 * 1024


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


def sort_by_record_id(records: list[IndexRow]) -> None:
    """Sort index rows by record_id in place, rows of one record_id kept in the order they came: the
    rows of a rebuild come in log order (log_ids rise with it), so the first logged sorts first and is
    the one inserted. By the key alone, not the whole tuple: four times faster (a rebuild sorts every
    row twice, in its worker's share and in the writer's batch)."""
    records.sort(key=_RECORD_ID)


def _typed(record: dict[str, Any]) -> RecordedEvent:
    event = parse_event(record)
    assert event is not None, "has_valid_envelope agrees with parse_event"
    return event


@dataclass
class IndexedShare:
    """Some whole logs, read from their first byte and indexed: rows sorted by record_id (of two rows
    with one record_id, the first logged sorts first), fold steps and checkpoints in log order, and
    what was read."""

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
    sort_by_record_id(indexed.records)
    return indexed


def worker_count(store: SessionLogStore, jobs: int | None) -> int:
    """How many worker processes a rebuild of `store` uses: `jobs` (default: the CPUs this process
    may run on), or none (0: in process) for one job, a store that cannot be sent to another process
    (one held in memory), or logs too small to be worth it."""
    wanted = jobs if jobs is not None else _usable_cpus()
    if wanted <= 1 or sum(size for _, size in store.log_sizes()) < PARALLEL_MIN_BYTES:
        return 0
    try:
        pickle.dumps(store)
    except (pickle.PicklingError, TypeError, AttributeError):
        return 0
    return wanted


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may run on
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def indexed_shares(
    store: SessionLogStore, logs: list[tuple[str, int]], workers: int
) -> Iterator[IndexedShare]:
    """Every log of `logs` ((name, log_id) pairs) indexed, in shares, in order; in `workers` processes
    (0: in this one)."""
    count = max(max(workers, 1) * SHARES_PER_JOB, -(-len(logs) // MAX_SHARE_LOGS))
    size = -(-len(logs) // count) or 1
    shares = [logs[start : start + size] for start in range(0, len(logs), size)]
    started = _start_workers(store, workers)
    if not started:
        for share in shares:
            yield index_share(store, share)
        return
    try:
        # Share i goes to worker i % workers, at most two ahead of what was read back from it; each
        # worker answers in the order it was asked, so share i's result is its worker's oldest.
        ahead = min(len(shares), 2 * workers)
        for index in range(ahead):
            _send(started[index % workers], shares[index])
        for index in range(len(shares)):
            worker = started[index % workers]
            result = pickle.load(_pipe(worker.stdout))
            if isinstance(result, BaseException):
                raise result
            if index + ahead < len(shares):
                _send(worker, shares[index + ahead])
            yield result
    finally:
        for worker in started:
            # At its next read of a task a worker exits; one still writing a result nobody will read
            # (the rebuild failed) exits at its broken pipe.
            _pipe(worker.stdin).close()
            _pipe(worker.stdout).close()
            if worker.wait() != 0 and sys.exc_info()[0] is None:
                raise RuntimeError(f"rebuild worker {worker.pid} exited with {worker.returncode}")


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None, "the worker was started with pipes"
    return stream


def _start_workers(store: SessionLogStore, workers: int) -> list[subprocess.Popen[bytes]]:
    """`workers` started workers, or none (parse in process) when a task pipe cannot hold a task."""
    started = [_start_worker(store) for _ in range(workers)]
    if all(_holds_a_task(worker) for worker in started):
        return started
    logger.warning("rebuild workers' pipes cannot be made %d bytes: parsing in process", TASK_PIPE_BYTES)
    for worker in started:
        _pipe(worker.stdin).close()
        _pipe(worker.stdout).close()
        worker.wait()
    return []


def _holds_a_task(worker: subprocess.Popen[bytes]) -> bool:
    """Make the worker's task pipe TASK_PIPE_BYTES (Linux); whether it now holds that much."""
    fd = _pipe(worker.stdin).fileno()
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:  # not Linux: its pipes are not shrunk under a user's limit either
        return True
    try:
        return fcntl.fcntl(fd, set_size, TASK_PIPE_BYTES) >= TASK_PIPE_BYTES
    except OSError:
        return False


def _start_worker(store: SessionLogStore) -> subprocess.Popen[bytes]:
    """A fresh interpreter running `_serve`, with the importable path of this process; it is sent the
    store, then shares of logs."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    worker = subprocess.Popen(
        [sys.executable, "-c", f"from {__name__} import _serve; _serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    _send(worker, store)
    return worker


def _send(worker: subprocess.Popen[bytes], value: object) -> None:
    stdin = _pipe(worker.stdin)
    pickle.dump(value, stdin, protocol=pickle.HIGHEST_PROTOCOL)
    stdin.flush()


def _serve() -> None:
    """A worker: index every share read from stdin and write each result (or the exception that
    stopped it) to stdout, until stdin ends, which it does when the rebuilding process closes it or
    dies. A worker whose rebuild died stops at its next read or at its next result (a broken pipe)."""
    gc.disable()  # as in the writer (store._gc_paused): a share's many row tuples hold no cycles
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        store = pickle.load(stdin)
        while True:
            share = pickle.load(stdin)
            try:
                result: IndexedShare | BaseException = index_share(store, share)
            except Exception as exc:  # the rebuild raises it
                result = exc
            pickle.dump(result, stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
    except (EOFError, BrokenPipeError):
        os._exit(0)
