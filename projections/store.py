"""The projection's database I/O: incremental catch-up per log file, full catch-up, rebuild.

Catch-up of one log runs in one transaction that locks the log's checkpoint (SQLite: BEGIN
IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), reads only the bytes after the checkpoint with
`eventstore.read_log_from`, upserts the new records (keyed by record_id, so a repeat is harmless)
and the session row, and moves the checkpoint in the same transaction. Several processes may catch
up at once: each new line is applied exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from a3cp.config import Settings, iter_session_logs
from a3cp.domain.errors import ProjectionUnavailable
from eventstore import LogRead, read_log_from
from projections import migrate, sqlite_file
from projections.apply import LogPlace, Row, fold_session, is_envelope, record_row
from projections.engine import WRITE, make_engine
from projections.guard import LossGuard
from projections.models import Base, LogCheckpoint, RecordRow, SessionRow

logger = logging.getLogger("a3cp.projection")
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
T = TypeVar("T")


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

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        self._insert = _INSERTS[self.engine.dialect.name]
        path = sqlite_file.database_path(self.engine)
        self.guard = LossGuard(path, tuple(Base.metadata.tables), self.engine.dispose, self.rebuild)

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        migrate.upgrade(self.engine)
        self.guard.adopt()

    def run(self, work: Callable[[], T]) -> T:
        """`work()` on an intact projection: a lost or damaged SQLite file is rebuilt from the logs
        first (projections/guard.py); raises ProjectionUnavailable (503) when it cannot be."""
        return self.guard.run(work)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.settings.log_root).as_posix()

    def catch_up_file(self, path: Path) -> CatchUp:
        """Apply the lines of one log that were appended since its checkpoint."""
        name = self.relative(path)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
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
            read = read_log_from(path, offset)
            if read.end_offset != offset:
                self._apply(conn, name, position, read)
        return CatchUp(files=1, events=len(read.events), torn=len(read.torn))

    def after_append(self, path: Path) -> None:
        """SessionLog listener: apply the new line now. A failure only delays the projection (the
        event is already durable in its log), so it is logged and the next catch-up applies it."""
        try:
            self.run(lambda: self.catch_up_file(path))
        except (SQLAlchemyError, ProjectionUnavailable) as exc:
            logger.warning("projection catch-up of %s skipped (%s); the next read retries it", path, exc)

    def _apply(self, conn: Connection, name: str, position: int, read: LogRead) -> None:
        records: list[Row] = []
        sessions: dict[str, Row | None] = {}
        for index, (event, offset) in enumerate(zip(read.events, read.offsets, strict=True)):
            if not is_envelope(event):
                continue
            records.append(record_row(event, LogPlace(name, offset, position + index)))
            session_id = event["session_id"]
            if session_id not in sessions:
                sessions[session_id] = self._session_row(conn, session_id)
            sessions[session_id] = fold_session(sessions[session_id], event)
        if records:
            insert_new = self._insert(RecordRow).on_conflict_do_nothing(index_elements=["record_id"])
            conn.execute(insert_new, records)
        for row in sessions.values():
            if row is not None:
                upsert = self._insert(SessionRow).values(row)
                conn.execute(upsert.on_conflict_do_update(index_elements=["session_id"], set_=row))
        conn.execute(
            LogCheckpoint.__table__.update()
            .where(LogCheckpoint.path == name)
            .values(offset=read.end_offset, position=position + len(read.events))
        )

    @staticmethod
    def _session_row(conn: Connection, session_id: str) -> Row | None:
        found = conn.execute(select(SessionRow.__table__).where(SessionRow.session_id == session_id))
        row = found.mappings().one_or_none()
        return dict(row) if row is not None else None

    def catch_up(self, logs: Iterable[Path] | None = None) -> CatchUp:
        """Apply new lines of every log (default: all under LOG_ROOT) that grew past its checkpoint."""
        return self.run(lambda: self._catch_up(logs))

    def _catch_up(self, logs: Iterable[Path] | None) -> CatchUp:
        with self.engine.connect() as conn:
            applied = dict(conn.execute(select(LogCheckpoint.path, LogCheckpoint.offset)).all())
        total = CatchUp()
        for path in iter_session_logs(self.settings) if logs is None else logs:
            if _size(path) > applied.get(self.relative(path), -1):
                total += self.catch_up_file(path)
        return total

    def rebuild(self, progress: bool = False) -> RebuildSummary:
        """Drop and recreate the schema, then replay every log under LOG_ROOT from its first byte."""
        began = time.monotonic()
        migrate.drop(self.engine)
        self.upgrade()
        total = CatchUp()
        for path in tqdm(iter_session_logs(self.settings), unit="log", disable=not progress):
            total += self.catch_up_file(path)
        return RebuildSummary(total, time.monotonic() - began)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
