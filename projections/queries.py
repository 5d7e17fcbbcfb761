"""Read queries of the projection, answered as the public response models (a3cp.schemas).

The record index says only where a record is (projections/models.py): a record's details and a
session's captures are read from the log lines it points to (one read of one log), up to the log's
checkpoint, so an answer never shows more than the projection has applied.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Engine, RowMapping, select, tuple_

from a3cp.domain.consent import CaptureStatus
from a3cp.domain.events import CaptureFeatures, RecordedEvent, parse_event
from a3cp.schemas import CaptureSummary, FeaturesIndex, RecordLocation, SessionDetail
from eventstore import SessionLogStore
from projections.consent import CaptureCurationRow
from projections.models import LogCheckpoint, SessionRow

_SESSIONS = SessionRow.__table__
_SESSION_ORDER = (SessionRow.start_time, SessionRow.session_id)
PageKey = tuple[str, str]  # (start_time, session_id) of the last session of a page


class Curation(NamedTuple):
    """A curated capture's current label (None: its annotation stands) and status."""

    label: str | None
    status: CaptureStatus


def _capture(event: CaptureFeatures, curation: Curation | None) -> CaptureSummary:
    """A capture as listed: the log line's fields, and the label and status its curation gives (none:
    active, labelled as captured)."""
    ref = event.raw_features_ref
    assert ref is not None and ref.uri is not None
    t, d = ref.shape if ref.shape is not None else (None, None)
    intent = event.annotation.intent if event.annotation is not None else None
    return CaptureSummary(
        record_id=event.record_id,
        capture_id=event.capture_id,
        timestamp=event.timestamp,
        T=t,
        D=d,
        hash=ref.hash,
        uri=ref.uri,
        encoding=ref.encoding,
        quality=event.quality,
        annotation_intent=intent,
        label=(curation.label or intent) if curation is not None else intent,
        status=curation.status if curation is not None else "active",
    )


def _applied_events(conn: Connection, store: SessionLogStore, name: str) -> list[tuple[RecordedEvent, int]]:
    """The typed events of log `name` the projection has applied, with their byte offsets."""
    end = conn.execute(select(LogCheckpoint.end_offset).where(LogCheckpoint.path == name)).scalar()
    if end is None:
        return []
    read = store.read_from(name, 0)
    parsed = ((parse_event(record), offset) for record, offset in zip(read.events, read.offsets, strict=True))
    return [(event, offset) for event, offset in parsed if event is not None and offset < end]


def _captured(conn: Connection, store: SessionLogStore, row: RowMapping) -> list[CaptureFeatures]:
    """The session's feature events with a feature file, in log order, read from its log."""
    name = store.log_name(row["user_id"], row["session_id"])
    return [
        event
        for event, _ in _applied_events(conn, store, name)
        if isinstance(event, CaptureFeatures)
        and event.session_id == row["session_id"]
        and event.raw_features_ref is not None
        and event.raw_features_ref.uri is not None
    ]


def _curation(conn: Connection, record_ids: list[str]) -> dict[str, Curation]:
    """record_id -> curation of those of `record_ids` that were curated (projections/consent.py)."""
    if not record_ids:
        return {}
    rows = conn.execute(
        select(CaptureCurationRow.record_id, CaptureCurationRow.label, CaptureCurationRow.status).where(
            CaptureCurationRow.record_id.in_(record_ids)
        )
    )
    # the column holds only statuses the consent fold produced
    return {record_id: Curation(label, cast(CaptureStatus, status)) for record_id, label, status in rows}


def _details(conn: Connection, store: SessionLogStore, rows: list[RowMapping]) -> list[SessionDetail]:
    """The sessions of `rows` with their captures; the curation of all of them in one query."""
    captured = [_captured(conn, store, row) for row in rows]
    curation = _curation(conn, [event.record_id for events in captured for event in events])
    return [
        SessionDetail.model_validate(
            dict(row) | {"captures": [_capture(event, curation.get(event.record_id)) for event in events]}
        )
        for row, events in zip(rows, captured, strict=True)
    ]


def session_owner(engine: Engine, session_id: str) -> str | None:
    """The user of the session, if the projection has seen its start."""
    with engine.connect() as conn:
        return conn.execute(select(SessionRow.user_id).where(SessionRow.session_id == session_id)).scalar()


def session(engine: Engine, store: SessionLogStore, session_id: str) -> SessionDetail | None:
    """One session, or None if the projection has not seen its start."""
    with engine.connect() as conn:
        rows = list(conn.execute(select(_SESSIONS).where(SessionRow.session_id == session_id)).mappings())
        found = _details(conn, store, rows)
    return found[0] if found else None


def user_sessions(
    engine: Engine, store: SessionLogStore, user_id: str, limit: int, after: PageKey | None = None
) -> tuple[list[SessionDetail], PageKey | None]:
    """Up to `limit` of a user's sessions, oldest first (start_time, then session_id), after the key
    `after`; and the key to continue from, or None when this was the last page. One index range scan
    (ix_sessions_user_start): the cost of a page does not grow with the user's other sessions."""
    query = select(_SESSIONS).where(SessionRow.user_id == user_id)
    if after is not None:
        query = query.where(tuple_(*_SESSION_ORDER) > tuple_(*after))
    with engine.connect() as conn:
        rows = list(conn.execute(query.order_by(*_SESSION_ORDER).limit(limit + 1)).mappings())
        page = _details(conn, store, rows[:limit])
    last = rows[limit - 1] if len(rows) > limit else None
    return page, (last["start_time"], last["session_id"]) if last is not None else None


def _driver_sql(engine: Engine, template: str) -> str:
    """`template` with `{p}` as the driver's parameter marker (sqlite3: `?`, psycopg: `%s`)."""
    return template.format(p="?" if engine.dialect.paramstyle == "qmark" else "%s")


# The two lookups of every sessions.start/end, as driver SQL: building and compiling the Core statements
# was most of their cost (cProfile of the request path).
_RECORD = (
    "SELECT r.log_offset, r.log_position, l.path FROM record_index AS r "
    "JOIN logs AS l ON l.log_id = r.log_id WHERE r.record_id = {p}"
)
_ACTIVE_SESSIONS = (
    "SELECT session_id FROM sessions WHERE user_id = {p} AND status = 'active' ORDER BY session_id"
)


def record(engine: Engine, store: SessionLogStore, record_id: str) -> RecordLocation | None:
    """Where `record_id` was logged, or None; its details come from its log line."""
    with engine.connect() as conn:
        found = conn.exec_driver_sql(_driver_sql(engine, _RECORD), (record_id,)).one_or_none()
    if found is None:
        return None
    offset, position, name = found
    read = store.read_from(name, offset)
    event = parse_event(read.events[0]) if read.offsets[:1] == [offset] else None
    if event is None:  # the log no longer holds that line (replaced by hand): not a record any more
        return None
    return _location(event, name, offset, position)


def _location(event: RecordedEvent, name: str, offset: int, position: int) -> RecordLocation:
    fields: dict[str, Any] = {
        "capture_id": None,
        "raw_features_ref": None,
        "quality": None,
        "annotation_intent": None,
    }
    if isinstance(event, CaptureFeatures):
        ref = event.raw_features_ref
        fields.update(
            capture_id=event.capture_id,
            quality=event.quality,
            annotation_intent=event.annotation.intent if event.annotation is not None else None,
        )
        if ref is not None and ref.uri is not None:
            fields["raw_features_ref"] = FeaturesIndex(
                uri=ref.uri,
                hash=ref.hash,
                shape=list(ref.shape) if ref.shape is not None else [None, None],
                dims=ref.dims,
                encoding=ref.encoding,
                dtype=ref.dtype,
                format=ref.format,
            )
    return RecordLocation(
        record_id=event.record_id,
        user_id=event.user_id,
        session_id=event.session_id,
        source=event.source,
        event=event.event,
        performer_id=event.performer_id,
        timestamp=event.timestamp,
        log_path=name,
        log_offset=offset,
        log_position=position,
        **fields,
    )


def active_sessions(engine: Engine, user_id: str) -> list[str]:
    """The ids of the user's sessions the projection has as active (ix_sessions_user_status: one probe,
    however many closed sessions the user has)."""
    with engine.connect() as conn:
        return list(conn.exec_driver_sql(_driver_sql(engine, _ACTIVE_SESSIONS), (user_id,)).scalars())


def idle_sessions(engine: Engine, last_activity_before: str) -> list[tuple[str, str]]:
    """(user_id, session_id) of active sessions whose last event is older than the given timestamp."""
    query = (
        select(SessionRow.user_id, SessionRow.session_id)
        .where(SessionRow.status == "active", SessionRow.last_activity < last_activity_before)
        .order_by(SessionRow.session_id)
    )
    with engine.connect() as conn:
        return [(user_id, session_id) for user_id, session_id in conn.execute(query)]
