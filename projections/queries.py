"""Read queries of the projection, answered as the public response models (a3cp.schemas)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, RowMapping, select

from a3cp.schemas import CaptureSummary, FeaturesIndex, RecordLocation, SessionDetail, UserSessions
from projections.consent import CURATION_COLUMNS, CaptureCurationRow
from projections.models import RecordRow, SessionRow

_RECORDS = RecordRow.__table__
_SESSIONS = SessionRow.__table__


def _capture(row: RowMapping) -> CaptureSummary:
    return CaptureSummary(
        record_id=row["record_id"],
        capture_id=row["capture_id"],
        timestamp=row["timestamp"],
        T=row["features_t"],
        D=row["features_d"],
        hash=row["features_hash"],
        uri=row["features_uri"],
        encoding=row["features_encoding"],
        quality=row["quality"],
        annotation_intent=row["annotation_intent"],
        label=row["curated_label"] or row["annotation_intent"],
        status=row["curation_status"] or "active",
    )


def _sessions(engine: Engine, where: Any) -> list[SessionDetail]:
    """Sessions matching `where`, oldest first, each with its captures in log order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_SESSIONS).where(where).order_by(SessionRow.start_time, SessionRow.session_id)
        ).mappings()
        sessions = [dict(row) for row in rows]
        ids = [row["session_id"] for row in sessions]
        captures: dict[str, list[CaptureSummary]] = {session_id: [] for session_id in ids}
        found = conn.execute(
            select(_RECORDS, *CURATION_COLUMNS)
            .outerjoin(CaptureCurationRow, CaptureCurationRow.record_id == RecordRow.record_id)
            .where(RecordRow.session_id.in_(ids), RecordRow.features_uri.is_not(None))
            .order_by(RecordRow.session_id, RecordRow.log_position)
        ).mappings()
        for row in found:
            captures[row["session_id"]].append(_capture(row))
    return [SessionDetail.model_validate(row | {"captures": captures[row["session_id"]]}) for row in sessions]


def session(engine: Engine, session_id: str) -> SessionDetail | None:
    """One session, or None if the projection has not seen its start."""
    found = _sessions(engine, SessionRow.session_id == session_id)
    return found[0] if found else None


def user_sessions(engine: Engine, user_id: str) -> UserSessions:
    """A user's sessions, oldest first (an unknown user has none)."""
    return UserSessions(user_id=user_id, sessions=_sessions(engine, SessionRow.user_id == user_id))


def record(engine: Engine, record_id: str) -> RecordLocation | None:
    """Where `record_id` was logged, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(_RECORDS).where(RecordRow.record_id == record_id)).mappings().one_or_none()
    if row is None:
        return None
    features = None
    if row["features_uri"] is not None:
        features = FeaturesIndex(
            uri=row["features_uri"],
            hash=row["features_hash"],
            shape=[row["features_t"], row["features_d"]],
            dims=row["features_dims"],
            encoding=row["features_encoding"],
            dtype=row["features_dtype"],
            format=row["features_format"],
        )
    plain = {key: value for key, value in row.items() if not key.startswith("features_")}
    return RecordLocation.model_validate(plain | {"raw_features_ref": features})


def idle_sessions(engine: Engine, last_activity_before: str) -> list[tuple[str, str]]:
    """(user_id, session_id) of active sessions whose last event is older than the given timestamp."""
    query = (
        select(SessionRow.user_id, SessionRow.session_id)
        .where(SessionRow.status == "active", SessionRow.last_activity < last_activity_before)
        .order_by(SessionRow.session_id)
    )
    with engine.connect() as conn:
        return [(user_id, session_id) for user_id, session_id in conn.execute(query)]
