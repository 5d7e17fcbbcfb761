"""The projection's database I/O: incremental catch-up per log, full catch-up, rebuild.

Logs are read through the recorder's interface (eventstore.SessionLogStore) and named as it names
them (relative to LOG_ROOT). Catch-up of one log runs in one transaction that locks the log's
checkpoint (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), reads only the bytes after
the checkpoint with `SessionLogStore.read_from`, indexes the new records (keyed by record_id, so a
repeat is harmless), upserts the session row, and moves the checkpoint in the same transaction: the
checkpoint can never be ahead of what was applied, whatever the database's durability setting. Several
processes may catch up at once: each new line is applied exactly once.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable
from tqdm import tqdm

from a3cp.config import Settings
from a3cp.faults import ProjectionUnavailable
from a3cp.storage_layout import StorageLayout
from eventstore import FileLogStore, LogRead, SessionLogStore
from projections import consent as consent_projection
from projections import migrate, sqlite_file
from projections.apply import Row, fold_session, touch
from projections.engine import WRITE, make_engine
from projections.guard import LossGuard
from projections.models import Base, LogCheckpoint, SessionRow
from projections.rebuild_lock import RebuildLock
from projections.rebuild_parse import (
    FoldStep,
    IndexRow,
    index_read,
    indexed_shares,
    sort_by_record_id,
    worker_count,
)
from projections.safety_net import SafetyNet

logger = logging.getLogger("a3cp.projection")
# Both dialects' INSERTs have ON CONFLICT (the generic one does not).
Insert = sqlite.Insert | postgresql.Insert
InsertFor = Callable[[type[Base]], Insert]
_INSERTS: dict[str, InsertFor] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
T = TypeVar("T")
REBUILD_BATCH_EVENTS = 200_000
REBUILD_SQLITE_CACHE_KIB = 128 * 1024
CHECKPOINT_READ_CHUNK = 500  # log paths per IN (...) of a checkpoint read (SQLite's variable limit)


@dataclass(frozen=True)
class CatchUp:
    """What a catch-up did: log files looked at, events applied, torn lines skipped."""

    files: int = 0
    events: int = 0
    torn: int = 0

    def __add__(self, other: CatchUp) -> CatchUp:
        return CatchUp(self.files + other.files, self.events + other.events, self.torn + other.torn)


@dataclass(frozen=True)
class RebuildSummary:
    """What `a3cp rebuild` did and how long it took."""

    totals: CatchUp
    seconds: float

    def line(self) -> str:
        t = self.totals
        return (
            f"rebuilt projection: {t.files} files, {t.events} events, "
            f"{t.torn} torn lines skipped, {self.seconds:.2f} s"
        )


class Projection:
    """The read model of one LOG_ROOT in one database."""

    def __init__(
        self, settings: Settings, engine: Engine | None = None, store: SessionLogStore | None = None
    ) -> None:
        self.settings = settings
        self.store = store or FileLogStore(StorageLayout(settings))
        self.engine = engine or make_engine(settings.db_url)
        self._insert = _INSERTS[self.engine.dialect.name]
        self._upsert_sessions = _upsert(self._insert, SessionRow, "session_id")
        self._sql = _Statements(self.engine.dialect.name)
        # log (relative to LOG_ROOT) -> an offset known to be applied: never above its checkpoint
        self._applied: dict[str, int] = {}
        self._last_scan = -math.inf
        self._unapplied_at_last_pass: set[str] = set()  # the safety net's: logs it saw grown and unapplied
        self.safety_net = SafetyNet()
        self._writer = threading.RLock()
        path = sqlite_file.database_path(self.engine)
        self.guard = LossGuard(path, tuple(Base.metadata.tables), self._reopen, self.rebuild)
        self._rebuild_lock = RebuildLock(self.engine, path)

    def _reopen(self) -> None:
        """Drop pooled connections and what this process knew was applied (the file was replaced)."""
        self._applied.clear()
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A connection for write transactions (BEGIN IMMEDIATE on SQLite), one thread of this process
        at a time: threads wait on this lock in turn, not in SQLite's busy handler, which sleeps up to
        100 ms between tries (p99 latency of hundreds of ms under load; bench.api --profile)."""
        with self._writer, self.engine.connect().execution_options(**WRITE) as conn:
            yield conn

    @contextmanager
    def _catching_up(self) -> Iterator[Connection]:
        """A catch-up's write transaction, which no rebuild overlaps (projections/rebuild_lock.py)."""
        with self._rebuild_lock.shared(), self._writing() as conn, conn.begin():
            self._rebuild_lock.enter(conn)
            yield conn

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        migrate.upgrade(self.engine)
        self.guard.adopt()

    def run(self, work: Callable[[], T]) -> T:
        """`work()` on an intact projection: a lost or damaged SQLite file is rebuilt from the logs
        first (projections/guard.py); raises ProjectionUnavailable (503) when it cannot be."""
        return self.guard.run(work)

    def catch_up_log(self, name: str) -> CatchUp:
        """Apply the lines of the log `name` (as the store names it) appended since its checkpoint.

        Raw driver statements (no ORM row processing): this runs once per request on the write path.
        """
        sql = self._sql
        with self._catching_up() as conn:
            conn.exec_driver_sql(sql.add_log, [(name,)])
            log_id, offset, position = conn.exec_driver_sql(sql.lock_log, (name,)).one()
            read = self.store.read_from(name, offset)
            if read.end_offset != offset:
                batch = _Batch(lambda session_id: _stored_session(conn, session_id))
                batch.add(log_id, position, read)
                self._flush(conn, batch)
        self._applied[name] = max(read.end_offset, self._applied.get(name, 0))
        return CatchUp(files=1, events=len(read.events), torn=len(read.torn))

    def refresh_log(self, name: str) -> CatchUp:
        """Apply log `name`'s new lines, if it has any: one read of its tail past what is known to be
        applied, and a write transaction only when there is something new. What a read of one session
        does instead of a scan of every log, so its cost does not grow with the number of logs."""
        applied = self._applied.get(name)
        if applied is None:
            with self.engine.connect() as conn:
                stored = conn.execute(select(LogCheckpoint.end_offset).where(LogCheckpoint.path == name))
                applied = stored.scalar() or 0
        if self.store.read_from(name, applied).end_offset == applied:
            return CatchUp()
        return self.catch_up_log(name)

    def after_append(self, name: str) -> None:
        """SessionLog listener: apply the new line of log `name` now. A failure only delays the
        projection (the event is already durable in its log), so it is logged and the next catch-up
        applies it."""
        try:
            self.run(lambda: self.catch_up_log(name))
        except (SQLAlchemyError, ProjectionUnavailable) as exc:
            logger.warning("projection catch-up of %s skipped (%s); the next read retries it", name, exc)

    def _flush(self, conn: Connection, batch: _Batch) -> None:
        """Write a batch: index rows (a record_id seen before keeps its first place), session rows and
        checkpoints, all in the caller's transaction, so the checkpoints never run ahead of the rows."""
        if batch.records:
            conn.exec_driver_sql(self._sql.index_records, batch.records)
        sessions = [row for row in batch.sessions.values() if row is not None]
        if sessions:
            conn.execute(self._upsert_sessions, sessions)
        conn.exec_driver_sql(self._sql.move_checkpoint, batch.checkpoints)

    def catch_up(self, max_age_s: float = 0.0) -> CatchUp:
        """Apply the new lines of every log under LOG_ROOT that grew past its checkpoint.

        With `max_age_s`, the periodic scan of callers that can accept missing, for that long, what
        other processes' failed listeners left (this process's own appends are applied at once by
        `after_append`): nothing is done while the background safety net runs
        (projections/safety_net.py), or when a scan started less than `max_age_s` ago.
        """
        if max_age_s > 0:
            if self.safety_net.live() or time.monotonic() - self._last_scan < max_age_s:
                return CatchUp()
            return self.run(lambda: self._catch_up(wait=False))
        return self.run(lambda: self._catch_up(wait=True))

    def safety_net_pass(self) -> float:
        """One pass of the safety net (projections/safety_net.py), which applies only the logs that were
        already grown and unapplied at its previous pass; returns how long it took. A log found unapplied
        once is most often one whose append listener (in a server) is under way: catching it up too took
        SQLite's write lock from that listener's request (bench.api p99). One whose listener failed is
        applied a pass later, or by the next append to it, whose listener applies every line since the
        checkpoint."""
        began = time.monotonic()

        def net_pass() -> CatchUp:
            grown = self._grown_logs()
            due = [name for name in grown if name in self._unapplied_at_last_pass]
            self._unapplied_at_last_pass = set(grown).difference(due)
            return self._apply(due, wait=False)

        self.run(net_pass)
        return time.monotonic() - began

    def _catch_up(self, wait: bool) -> CatchUp:
        return self._apply(self._grown_logs(), wait)

    def _grown_logs(self) -> list[str]:
        """The logs past their checkpoints, sorted. It must cost little when nothing changed: one
        directory scan with a size per log, compared with the offsets this process already knows are
        applied (a lower bound of the checkpoints, loaded once), then the stored checkpoints of only
        the logs that look grown."""
        self._last_scan = time.monotonic()
        if not self._applied:
            with self.engine.connect() as conn:
                self._applied.update(conn.execute(select(LogCheckpoint.path, LogCheckpoint.end_offset)).all())
        sizes = {name: size for name, size in self.store.log_sizes() if size > self._applied.get(name, -1)}
        if sizes:  # other processes may have applied them already (their own appends): ask, read-only
            self._applied.update(self._checkpoints_of(list(sizes)))
        return sorted(name for name, size in sizes.items() if size > self._applied.get(name, -1))

    def _apply(self, names: list[str], wait: bool) -> CatchUp:
        """Catch up `names`, then the consent streams. Unless `wait`, a log is left for later when
        another thread of this process is writing the projection (most likely that log's own append
        listener: a periodic scan must not queue a request behind it; bench.api --profile)."""
        total = CatchUp()
        for name in names:
            if wait:
                total += self.catch_up_log(name)
            elif self._writer.acquire(blocking=False):
                try:
                    total += self.catch_up_log(name)
                finally:
                    self._writer.release()
        return total + self._catch_up_streams()

    def _checkpoints_of(self, names: list[str]) -> list[tuple[str, int]]:
        """The stored checkpoints of `names`, read without a write transaction: a log another process
        already applied costs one row read here, not a locked catch-up (the safety net's child knew
        none of the server's own appends and locked the database once per new log: bench.api p99)."""
        found: list[tuple[str, int]] = []
        with self.engine.connect() as conn:
            for start in range(0, len(names), CHECKPOINT_READ_CHUNK):
                chunk = names[start : start + CHECKPOINT_READ_CHUNK]
                query = select(LogCheckpoint.path, LogCheckpoint.end_offset).where(
                    LogCheckpoint.path.in_(chunk)
                )
                found.extend((path, offset) for path, offset in conn.execute(query).all())
        return found

    def _catch_up_streams(self) -> CatchUp:
        """Project every per-user consent stream that grew (projections/consent.py)."""
        total = CatchUp()
        for user_id, name, size in consent_projection.stream_sizes(self.settings):
            if size > self._applied.get(name, -1):
                total += self.catch_up_stream(user_id)
        return total

    def catch_up_stream(self, user_id: str) -> CatchUp:
        """Re-project one user's consent stream, under its checkpoint's lock."""
        name = consent_projection.stream_name(self.settings, user_id)
        with self._catching_up() as conn:
            conn.execute(
                self._insert(LogCheckpoint)
                .values(path=name, end_offset=0, position=0)
                .on_conflict_do_nothing(index_elements=["path"])
            )
            conn.execute(select(LogCheckpoint.path).where(LogCheckpoint.path == name).with_for_update())
            offset, events = consent_projection.project_user(conn, self.settings, user_id)
        self._applied[name] = offset
        return CatchUp(files=1, events=events)

    def after_stream_append(self, user_id: str) -> None:
        """ConsentService listener: project the user's stream now (a failure only delays it)."""
        try:
            self.run(lambda: self.catch_up_stream(user_id))
        except (SQLAlchemyError, ProjectionUnavailable) as exc:
            logger.warning("projection of %s's consent skipped (%s); the next read retries it", user_id, exc)

    def rebuild(self, progress: bool = False, jobs: int | None = None) -> RebuildSummary:
        """Drop and recreate the schema, then replay every log under LOG_ROOT from its first byte.

        No catch-up of any process writes the projection meanwhile (projections/rebuild_lock.py);
        a rebuild that fails part-way is simply run again. What made it fast (docs/benchmarks.md):
        logs read, parsed and indexed in `jobs` worker processes (default: one per CPU; 1: in this
        process) while this one folds sessions and writes (projections/rebuild_parse.py); a narrow
        record index (record_id -> log id, offset, position; WITHOUT ROWID on SQLite) written with the raw
        driver's executemany in batches of about REBUILD_BATCH_EVENTS sorted by record_id (merged
        from shares sorted by the workers), one transaction each; orjson for the lines and a
        pydantic-free envelope check (projections/envelope.py), typed events only for starts and
        ends; a larger SQLite page cache; the cyclic garbage collector paused while batches of rows
        are alive.
        """
        began = time.monotonic()
        with self._rebuild_lock.exclusive():
            total = self._replay_every_log(progress, jobs)
        return RebuildSummary(total, time.monotonic() - began)

    def _replay_every_log(self, progress: bool, jobs: int | None) -> CatchUp:
        self._applied.clear()
        migrate.drop(self.engine)
        self.upgrade()
        total = CatchUp()
        names = self.store.log_names()
        workers = worker_count(self.store, jobs)
        flushed: set[str] = set()  # sessions written by an earlier batch (a session may span logs)
        with (
            self._writing() as conn,
            _bulk_load(conn),
            _gc_paused(),
            tqdm(total=len(names), unit="log", disable=not progress) as bar,
        ):
            log_ids = self._register_logs(conn, names)

            def stored(session_id: str) -> Row | None:
                return _stored_session(conn, session_id) if session_id in flushed else None

            batch = _Batch(stored)
            for share in indexed_shares(self.store, [(name, log_ids[name]) for name in names], workers):
                batch.records += share.records
                batch.fold(share.steps)
                batch.checkpoints += share.checkpoints
                total += CatchUp(files=len(share.checkpoints), events=share.events, torn=share.torn)
                bar.update(len(share.checkpoints))
                if len(batch.records) >= REBUILD_BATCH_EVENTS:
                    flushed.update(batch.sessions)
                    batch = self._commit(conn, batch)
            self._commit(conn, batch)
        return total + self._catch_up_streams()

    def _register_logs(self, conn: Connection, names: list[str]) -> dict[str, int]:
        """Give every log its row (checkpoint at the start) in one statement; name -> log_id."""
        if names:
            conn.exec_driver_sql(self._sql.add_log, [(name,) for name in names])
        return dict(conn.execute(select(LogCheckpoint.path, LogCheckpoint.log_id)).all())

    def _commit(self, conn: Connection, batch: _Batch) -> _Batch:
        """Write `batch` (index rows in record_id order: B-tree pages filled in turn) and commit;
        returns a fresh batch with the same session loader."""
        if batch.checkpoints:
            # shares arrive sorted and in log order, so this merges their runs; of two rows with one
            # record_id, the first logged stays first and wins
            sort_by_record_id(batch.records)
            self._flush(conn, batch)
        conn.commit()
        return _Batch(batch.stored)


class _Statements:
    """The few statements of the hot paths as driver SQL, in the dialect's parameter style."""

    def __init__(self, dialect: str) -> None:
        p = "?" if dialect == "sqlite" else "%s"
        self.add_log = (
            f"INSERT INTO logs (path, end_offset, position) VALUES ({p}, 0, 0) ON CONFLICT (path) DO NOTHING"
        )
        lock = "" if dialect == "sqlite" else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE already locks
        self.lock_log = f"SELECT log_id, end_offset, position FROM logs WHERE path = {p}{lock}"
        self.index_records = (
            "INSERT INTO record_index (record_id, log_id, log_offset, log_position) "
            f"VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (record_id) DO NOTHING"
        )
        self.move_checkpoint = f"UPDATE logs SET end_offset = {p}, position = {p} WHERE log_id = {p}"


def _upsert(insert: InsertFor, model: type[Base], key: str) -> Executable:
    """INSERT ... ON CONFLICT (key) DO UPDATE every other column, for executemany."""
    statement = insert(model)
    columns = [column.name for column in model.__table__.columns if column.name != key]
    return statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in columns}
    )


@contextmanager
def _bulk_load(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache big enough for the record_id B-tree during a rebuild, then the default."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{REBUILD_SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA cache_size=-2000")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (tens of thousands of live row dicts made it rescan them
    over and over); event rows hold no reference cycles, so nothing is leaked meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


SessionLoader = Callable[[str], Row | None]


@dataclass
class _Batch:
    """What some new log lines add to the projection: index rows, the touched sessions' rows (folded
    from their stored state, which `stored` loads), and the logs' new checkpoints."""

    stored: SessionLoader
    records: list[IndexRow] = field(default_factory=list)
    sessions: dict[str, Row | None] = field(default_factory=dict)
    checkpoints: list[tuple[int, int, int]] = field(default_factory=list)

    def add(self, log_id: int, position: int, read: LogRead) -> None:
        steps: list[FoldStep] = []
        index_read(read, log_id, position, self.records, steps)
        self.fold(steps)
        self.checkpoints.append((read.end_offset, position + len(read.events), log_id))

    def fold(self, steps: list[FoldStep]) -> None:
        sessions = self.sessions
        for session_id, step in steps:
            row = sessions[session_id] if session_id in sessions else self.stored(session_id)
            sessions[session_id] = touch(row, step) if isinstance(step, str) else fold_session(row, step)


_SESSION_BY_ID = select(SessionRow.__table__).where(SessionRow.session_id == bindparam("session_id"))


def _stored_session(conn: Connection, session_id: str) -> Row | None:
    row = conn.execute(_SESSION_BY_ID, {"session_id": session_id}).mappings().one_or_none()
    return dict(row) if row is not None else None
