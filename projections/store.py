"""The projection's database I/O: incremental catch-up per log, full catch-up, rebuild.

Logs are read through the recorder's interface (eventstore.SessionLogStore) and named as it names
them (relative to LOG_ROOT). Catch-up of one log runs in one transaction that locks the log's
checkpoint (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), reads only the bytes after
the checkpoint with `SessionLogStore.read_from`, upserts the new records (keyed by record_id, so a
repeat is harmless) and the session row, and moves the checkpoint in the same transaction. Several
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
from a3cp.domain.events import parse_event
from a3cp.faults import ProjectionUnavailable
from a3cp.storage_layout import StorageLayout
from eventstore import FileLogStore, LogRead, SessionLogStore
from projections import consent as consent_projection
from projections import migrate, sqlite_file
from projections.apply import LogPlace, Row, fold_session, record_row
from projections.engine import WRITE, make_engine
from projections.guard import LossGuard
from projections.models import Base, LogCheckpoint, RecordRow, SessionRow

logger = logging.getLogger("a3cp.projection")
# Both dialects' INSERTs have ON CONFLICT (the generic one does not).
Insert = sqlite.Insert | postgresql.Insert
InsertFor = Callable[[type[Base]], Insert]
_INSERTS: dict[str, InsertFor] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
T = TypeVar("T")
REBUILD_BATCH_EVENTS = 50_000
REBUILD_SQLITE_CACHE_KIB = 128 * 1024


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
        self._upsert_checkpoints = _upsert(self._insert, LogCheckpoint, "path")
        # log (relative to LOG_ROOT) -> an offset known to be applied: never above its checkpoint
        self._applied: dict[str, int] = {}
        self._last_scan = -math.inf
        self._writer = threading.RLock()
        path = sqlite_file.database_path(self.engine)
        self.guard = LossGuard(path, tuple(Base.metadata.tables), self._reopen, self.rebuild)

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

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        migrate.upgrade(self.engine)
        self.guard.adopt()

    def run(self, work: Callable[[], T]) -> T:
        """`work()` on an intact projection: a lost or damaged SQLite file is rebuilt from the logs
        first (projections/guard.py); raises ProjectionUnavailable (503) when it cannot be."""
        return self.guard.run(work)

    def catch_up_log(self, name: str) -> CatchUp:
        """Apply the lines of the log `name` (as the store names it) appended since its checkpoint."""
        with self._writing() as conn, conn.begin():
            conn.execute(
                self._insert(LogCheckpoint)
                .values(path=name, offset=0, position=0)
                .on_conflict_do_nothing(index_elements=["path"])
            )
            offset, position = conn.execute(
                select(LogCheckpoint.offset, LogCheckpoint.position)
                .where(LogCheckpoint.path == name)
                .with_for_update()
            ).one()
            read = self.store.read_from(name, offset)
            if read.end_offset != offset:
                batch = _Batch()
                batch.add(conn, name, position, read)
                self._flush(conn, batch)
        self._applied[name] = max(read.end_offset, self._applied.get(name, 0))
        return CatchUp(files=1, events=len(read.events), torn=len(read.torn))

    def after_append(self, name: str) -> None:
        """SessionLog listener: apply the new line of log `name` now. A failure only delays the
        projection (the event is already durable in its log), so it is logged and the next catch-up
        applies it."""
        try:
            self.run(lambda: self.catch_up_log(name))
        except (SQLAlchemyError, ProjectionUnavailable) as exc:
            logger.warning("projection catch-up of %s skipped (%s); the next read retries it", name, exc)

    def _flush(self, conn: Connection, batch: _Batch) -> None:
        """Write a batch: new records (a record_id seen before is kept), session rows, checkpoints."""
        if batch.records:
            insert_new = self._insert(RecordRow).on_conflict_do_nothing(index_elements=["record_id"])
            conn.execute(insert_new, batch.records)
        sessions = [row for row in batch.sessions.values() if row is not None]
        if sessions:
            conn.execute(self._upsert_sessions, sessions)
        conn.execute(self._upsert_checkpoints, batch.checkpoints)

    def _commit(self, conn: Connection, batch: _Batch) -> _Batch:
        """Write `batch` and commit; returns a fresh batch."""
        if batch.checkpoints:
            self._flush(conn, batch)
        conn.commit()
        return _Batch()

    def catch_up(self, max_age_s: float = 0.0) -> CatchUp:
        """Apply the new lines of every log under LOG_ROOT that grew past its checkpoint.

        With `max_age_s`, nothing is done when a scan started less than that many seconds ago: for
        callers that can accept missing, for that long, what other processes appended (this
        process's own appends are applied at once by `after_append`).
        """
        if max_age_s > 0 and time.monotonic() - self._last_scan < max_age_s:
            return CatchUp()
        return self.run(self._catch_up)

    def _catch_up(self) -> CatchUp:
        """Runs before every read, so it must cost little when nothing changed: one directory scan
        with a size per log, compared with the offsets this process already knows are applied (a
        lower bound of the checkpoints, loaded once); only logs that grew are opened."""
        self._last_scan = time.monotonic()
        if not self._applied:
            with self.engine.connect() as conn:
                self._applied.update(conn.execute(select(LogCheckpoint.path, LogCheckpoint.offset)).all())
        grown = sorted(name for name, size in self.store.log_sizes() if size > self._applied.get(name, -1))
        total = CatchUp()
        for name in grown:
            total += self.catch_up_log(name)
        return total + self._catch_up_streams()

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
        with self._writing() as conn, conn.begin():
            conn.execute(
                self._insert(LogCheckpoint)
                .values(path=name, offset=0, position=0)
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

    def rebuild(self, progress: bool = False) -> RebuildSummary:
        """Drop and recreate the schema, then replay every log under LOG_ROOT from its first byte.

        Nobody else may write the projection meanwhile (the schema was just dropped); a rebuild that
        fails part-way is simply run again. What made it fast (see docs/benchmarks.md): logs applied
        in batches of about REBUILD_BATCH_EVENTS events, one transaction each; the record index's
        secondary indexes built once at the end; a larger SQLite page cache for the random-order
        record_id inserts; the cyclic garbage collector paused while batches of rows are alive.
        """
        began = time.monotonic()
        self._applied.clear()
        migrate.drop(self.engine)
        self.upgrade()
        total = CatchUp()
        batch = _Batch()
        deferred = Base.metadata.tables[RecordRow.__tablename__].indexes
        with self._writing() as conn, _bulk_load(conn), _gc_paused():
            for index in deferred:
                index.drop(conn)
            for name in tqdm(self.store.log_names(), unit="log", disable=not progress):
                read = self.store.read_from(name, 0)
                batch.add(conn, name, 0, read)
                total += CatchUp(files=1, events=len(read.events), torn=len(read.torn))
                if len(batch.records) >= REBUILD_BATCH_EVENTS:
                    batch = self._commit(conn, batch)
            self._commit(conn, batch)
            for index in deferred:
                index.create(conn)
            conn.commit()
        total += self._catch_up_streams()
        return RebuildSummary(total, time.monotonic() - began)


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


@dataclass
class _Batch:
    """What some new log lines add to the projection: record rows, the touched sessions' rows (folded
    from their stored state), and the logs' new checkpoints."""

    records: list[Row] = field(default_factory=list)
    sessions: dict[str, Row | None] = field(default_factory=dict)
    checkpoints: list[Row] = field(default_factory=list)

    def add(self, conn: Connection, name: str, position: int, read: LogRead) -> None:
        for index, (record, offset) in enumerate(zip(read.events, read.offsets, strict=True)):
            event = parse_event(record)
            if event is None:  # a line without a valid envelope counts for the position only
                continue
            self.records.append(record_row(event, LogPlace(name, offset, position + index)))
            session_id = event.session_id
            if session_id not in self.sessions:
                self.sessions[session_id] = _stored_session(conn, session_id)
            self.sessions[session_id] = fold_session(self.sessions[session_id], event)
        new_position = position + len(read.events)
        self.checkpoints.append({"path": name, "offset": read.end_offset, "position": new_position})


_SESSION_BY_ID = select(SessionRow.__table__).where(SessionRow.session_id == bindparam("session_id"))


def _stored_session(conn: Connection, session_id: str) -> Row | None:
    row = conn.execute(_SESSION_BY_ID, {"session_id": session_id}).mappings().one_or_none()
    return dict(row) if row is not None else None
