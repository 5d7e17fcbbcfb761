"""Pure projection logic: what one logged event contributes to the `records` and `sessions` rows.

No I/O here. The store (projections/store.py) reads new log lines, parses them into typed events
(a3cp.domain.events.parse_event), folds them through these functions and writes the resulting
column dicts in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a3cp.domain.events import CaptureFeatures, RecordedEvent, SessionEnded, SessionStarted

Row = dict[str, Any]


@dataclass(frozen=True)
class LogPlace:
    """Where an event sits: its log (its name, relative to LOG_ROOT), byte offset and index among
    valid events."""

    path: str
    offset: int
    position: int


def record_row(event: RecordedEvent, place: LogPlace) -> Row:
    """The `records` row of one event; feature events also carry their raw_features_ref fields."""
    row: Row = {
        "record_id": event.record_id,
        "user_id": event.user_id,
        "session_id": event.session_id,
        "source": event.source,
        "event": event.event,
        "performer_id": event.performer_id,
        "timestamp": event.timestamp,
        "log_path": place.path,
        "log_offset": place.offset,
        "log_position": place.position,
        "capture_id": None,
        "features_uri": None,
        "features_hash": None,
        "features_t": None,
        "features_d": None,
        "features_dims": None,
        "features_encoding": None,
        "features_dtype": None,
        "features_format": None,
        "quality": None,
        "annotation_intent": None,
    }
    if isinstance(event, CaptureFeatures):
        row.update(
            capture_id=event.capture_id,
            quality=event.quality,
            annotation_intent=event.annotation.intent if event.annotation is not None else None,
        )
        ref = event.raw_features_ref
        if ref is not None:
            t, d = ref.shape if ref.shape is not None else (None, None)
            row.update(
                features_uri=ref.uri,
                features_hash=ref.hash,
                features_t=t,
                features_d=d,
                features_dims=ref.dims,
                features_encoding=ref.encoding,
                features_dtype=ref.dtype,
                features_format=ref.format,
            )
    return row


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
    updated = dict(row, last_activity=max(row["last_activity"], event.timestamp))
    if isinstance(event, SessionEnded) and updated["end_record_id"] is None:
        updated.update(
            status="closed",
            end_record_id=event.record_id,
            end_time=event.end_time or event.timestamp,
            end_performer_id=event.performer_id,
        )
    return updated
