"""The projection of the per-user consent streams (docs/privacy.md): consent per scope and each
capture's current label and status.

A stream is short (one line per consent or curation act), so a user whose stream grew is re-folded
whole (a3cp.domain.consent.fold, the same fold the service decides on) and their rows replaced, in the
transaction that moves the stream's checkpoint (kept in `logs` under the stream's name):
live catch-up and `a3cp rebuild` give the same rows by construction. A capture with no curation
event has no row: it is active, with the label it was captured with.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, String, delete, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from a3cp.config import Settings
from a3cp.domain.consent import fold
from a3cp.storage_layout import user_stream_owners, user_stream_path
from eventstore import read_log
from projections.models import ID, RECORD_ID, TIMESTAMP, Base, LogCheckpoint


class ConsentScopeRow(Base):
    """One user's consent for one scope now: the grant in force, or none (both columns NULL)."""

    __tablename__ = "consent_scopes"

    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    consent_record_id: Mapped[str | None] = mapped_column(RECORD_ID)
    valid_until: Mapped[str | None] = mapped_column(TIMESTAMP)


class CaptureCurationRow(Base):
    """A curated capture: its current label (NULL: the capture's own annotation stands) and status."""

    __tablename__ = "capture_curation"

    record_id: Mapped[str] = mapped_column(RECORD_ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    session_id: Mapped[str] = mapped_column(ID)
    label: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))


def stream_name(settings: Settings, user_id: str) -> str:
    """The checkpoint key of a user's stream (its path relative to LOG_ROOT)."""
    return user_stream_path(settings, user_id).relative_to(settings.log_root).as_posix()


def project_user(conn: Connection, settings: Settings, user_id: str) -> tuple[int, int]:
    """Replace `user_id`'s rows by the fold of their whole stream and move its checkpoint (the caller
    holds the checkpoint's row lock); (the stream's end offset, its events)."""
    read = read_log(user_stream_path(settings, user_id))
    state = fold(read.events)
    conn.execute(delete(ConsentScopeRow).where(ConsentScopeRow.user_id == user_id))
    conn.execute(delete(CaptureCurationRow).where(CaptureCurationRow.user_id == user_id))
    scopes = [
        {"user_id": user_id, "scope": scope, **vars(value)} for scope, value in sorted(state.scopes.items())
    ]
    conn.execute(insert(ConsentScopeRow), scopes)
    captures = [
        {"record_id": record_id, "user_id": user_id, **vars(curation)}
        for record_id, curation in sorted(state.captures.items())
    ]
    if captures:
        conn.execute(insert(CaptureCurationRow), captures)
    name = stream_name(settings, user_id)
    conn.execute(
        update(LogCheckpoint)
        .where(LogCheckpoint.path == name)
        .values(end_offset=read.end_offset, position=read.position)
    )
    return read.end_offset, read.position


def stream_sizes(settings: Settings) -> list[tuple[str, str, int]]:
    """(user_id, stream name, size in bytes) of every user's stream."""
    return [
        (user_id, stream_name(settings, user_id), user_stream_path(settings, user_id).stat().st_size)
        for user_id in user_stream_owners(settings)
    ]


def curation_of(engine: Engine, user_id: str) -> dict[str, dict[str, Any]]:
    """record_id -> {label, status} of the user's curated captures (the rest are active, unrelabelled)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CaptureCurationRow.record_id, CaptureCurationRow.label, CaptureCurationRow.status).where(
                CaptureCurationRow.user_id == user_id
            )
        ).all()
    return {record_id: {"label": label, "status": status} for record_id, label, status in rows}
