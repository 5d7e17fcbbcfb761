"""The projection's tables (SQLAlchemy 2 typed ORM): sessions, the record_id index, per-log checkpoints.

Everything here is derived from the session logs and can be dropped and rebuilt (`a3cp rebuild`).
Timestamps are kept in their wire form (UTC ISO 8601 with milliseconds and Z), which sorts correctly
as text and round-trips exactly, so a rebuilt projection equals the live one byte for byte.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
RECORD_ID = String(36)
TIMESTAMP = String(24)


class Base(DeclarativeBase):
    """Metadata of the projection schema (Alembic's autogenerate target)."""


class SessionRow(Base):
    """One session, folded from its log: the first start and the first end win."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
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
    """Where one record_id lives: its session, kind, place in the log and, for feature events, its file."""

    __tablename__ = "records"

    record_id: Mapped[str] = mapped_column(RECORD_ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    session_id: Mapped[str] = mapped_column(ID, index=True)
    source: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    performer_id: Mapped[str] = mapped_column(ID)
    timestamp: Mapped[str] = mapped_column(TIMESTAMP)
    log_path: Mapped[str] = mapped_column(String(512))
    log_offset: Mapped[int] = mapped_column(BigInteger)
    log_position: Mapped[int] = mapped_column(Integer)
    capture_id: Mapped[str | None] = mapped_column(RECORD_ID)
    features_uri: Mapped[str | None] = mapped_column(String(512))
    features_hash: Mapped[str | None] = mapped_column(String(80))
    features_t: Mapped[int | None] = mapped_column(Integer)
    features_d: Mapped[int | None] = mapped_column(Integer)
    features_dims: Mapped[int | None] = mapped_column(Integer)
    features_encoding: Mapped[str | None] = mapped_column(String(256))
    features_dtype: Mapped[str | None] = mapped_column(String(16))
    features_format: Mapped[str | None] = mapped_column(String(16))
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    annotation_intent: Mapped[str | None] = mapped_column(String(200))


class LogCheckpoint(Base):
    """How far one log file has been applied: `offset` is LogRead.end_offset, `position` the events so far."""

    __tablename__ = "log_checkpoints"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
