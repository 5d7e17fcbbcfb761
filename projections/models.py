"""The projection's tables (SQLAlchemy 2 typed ORM): sessions, the narrow record_id index, the logs.

Everything here is derived from the session logs and can be dropped and rebuilt (`a3cp rebuild`).
Timestamps are kept in their wire form (UTC ISO 8601 with milliseconds and Z), which sorts correctly
as text and round-trips exactly, so a rebuilt projection equals the live one.

The record index is narrow on purpose (docs/projection.md): record_id -> (log, byte offset, position).
Everything else about a record (its kind, session, feature file) is read from its log line when
asked; one row per event is what a rebuild writes a million times.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
RECORD_ID = String(36)
TIMESTAMP = String(24)


class Base(DeclarativeBase):
    """Metadata of the projection schema (Alembic's autogenerate target)."""


class SessionRow(Base):
    """One session, folded from its log: the first start and the first end win."""

    __tablename__ = "sessions"
    # projections/queries.py: the paginated list of a user's sessions walks the first index in its
    # order; sessions.start finds the person's active session through the second; the timeout sweep
    # reads only active sessions through the third: none grows with the closed sessions
    __table_args__ = (
        Index("ix_sessions_user_start", "user_id", "start_time", "session_id"),
        Index("ix_sessions_user_status", "user_id", "status"),
        Index("ix_sessions_status_activity", "status", "last_activity"),
    )

    session_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))
    start_record_id: Mapped[str] = mapped_column(RECORD_ID)
    start_time: Mapped[str] = mapped_column(TIMESTAMP)
    performer_id: Mapped[str] = mapped_column(ID)
    end_record_id: Mapped[str | None] = mapped_column(RECORD_ID)
    end_time: Mapped[str | None] = mapped_column(TIMESTAMP)
    end_performer_id: Mapped[str | None] = mapped_column(ID)
    is_training_data: Mapped[bool] = mapped_column(Boolean)
    session_notes: Mapped[str | None] = mapped_column(Text)
    training_intent_label: Mapped[str | None] = mapped_column(String(200))
    last_activity: Mapped[str] = mapped_column(TIMESTAMP, index=True)


class RecordRow(Base):
    """Where one record_id lives: its log, the byte offset of its line, its index among valid events.
    SQLite stores it WITHOUT ROWID: the table is its own primary-key B-tree, one write per row."""

    __tablename__ = "record_index"
    __table_args__ = {"sqlite_with_rowid": False}

    record_id: Mapped[str] = mapped_column(RECORD_ID, primary_key=True)
    log_id: Mapped[int] = mapped_column(Integer)
    log_offset: Mapped[int] = mapped_column(BigInteger)
    log_position: Mapped[int] = mapped_column(Integer)


class LogCheckpoint(Base):
    """One log file, by a small id the record index refers to, and how far it has been applied:
    `end_offset` is LogRead.end_offset, `position` the valid events so far."""

    __tablename__ = "logs"

    log_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(512), unique=True)
    end_offset: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
