"""Pure projection logic: what logged events contribute to a `sessions` row.

No I/O here. The store (projections/store.py) reads new log lines, indexes every event with a valid
envelope, parses the session's start and end into typed events (a3cp.domain.events.parse_event),
folds them through these functions and writes the resulting column dicts in one transaction. Any
other event only moves the session's last activity (`touch`), which needs no typed event.
"""

from __future__ import annotations

from typing import Any

from a3cp.domain.events import END_EVENT, START_EVENT, RecordedEvent, SessionEnded, SessionStarted

Row = dict[str, Any]
# The kinds whose content the fold reads; every other valid event only touches last_activity.
FOLDED_KINDS = frozenset({START_EVENT, END_EVENT})


def _started(event: SessionStarted) -> Row:
    return {
        "session_id": event.session_id,
        "user_id": event.user_id,
        "status": "active",
        "start_record_id": event.record_id,
        "start_time": event.start_time or event.timestamp,
        "performer_id": event.performer_id,
        "end_record_id": None,
        "end_time": None,
        "end_performer_id": None,
        "is_training_data": bool(event.is_training_data),
        "session_notes": event.session_notes,
        "training_intent_label": event.training_intent_label,
        "last_activity": event.timestamp,
    }


def fold_session(row: Row | None, event: RecordedEvent) -> Row | None:
    """The `sessions` row after `event` (None until a start is seen); mirrors a3cp.domain.session.fold."""
    if row is None:
        return _started(event) if isinstance(event, SessionStarted) else None
    updated = _touched(row, event.timestamp)
    if isinstance(event, SessionEnded) and updated["end_record_id"] is None:
        updated.update(
            status="closed",
            end_record_id=event.record_id,
            end_time=event.end_time or event.timestamp,
            end_performer_id=event.performer_id,
        )
    return updated


def touch(row: Row | None, timestamp: str) -> Row | None:
    """The `sessions` row after an event that changes nothing but the last activity."""
    return _touched(row, timestamp) if row is not None else None


def _touched(row: Row, timestamp: str) -> Row:
    return dict(row, last_activity=max(row["last_activity"], timestamp))
