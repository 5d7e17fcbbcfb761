"""Pure projection logic: what one logged event contributes to the `records` and `sessions` rows.

No I/O here. The store (projections/store.py) reads new log lines, folds them through these
functions and writes the resulting column dicts in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a3cp.domain.session import END_EVENT, START_EVENT

Row = dict[str, Any]


@dataclass(frozen=True)
class LogPlace:
    """Where an event sits: its log (relative to LOG_ROOT), byte offset and index among valid events."""

    path: str
    offset: int
    position: int


ENVELOPE_KEYS = ("record_id", "user_id", "session_id", "source", "performer_id", "timestamp", "event")


def is_envelope(event: Row) -> bool:
    """True when the event carries every envelope field the projection indexes (as strings)."""
    return all(isinstance(event.get(key), str) for key in ENVELOPE_KEYS)


def record_row(event: Row, place: LogPlace) -> Row:
    """The `records` row of one event; feature events also carry their raw_features_ref fields."""
    ref = event.get("raw_features_ref") if isinstance(event.get("raw_features_ref"), dict) else {}
    shape = ref.get("shape")
    t, d = shape if isinstance(shape, list) and len(shape) == 2 else (None, None)
    annotation = event.get("annotation") if isinstance(event.get("annotation"), dict) else {}
    quality = event.get("quality")
    return {
        "record_id": event["record_id"],
        "user_id": event["user_id"],
        "session_id": event["session_id"],
        "source": event["source"],
        "event": event["event"],
        "performer_id": event["performer_id"],
        "timestamp": event["timestamp"],
        "log_path": place.path,
        "log_offset": place.offset,
        "log_position": place.position,
        "capture_id": event.get("capture_id"),
        "features_uri": ref.get("uri"),
        "features_hash": ref.get("hash"),
        "features_t": t,
        "features_d": d,
        "features_dims": ref.get("dims"),
        "features_encoding": ref.get("encoding"),
        "features_dtype": ref.get("dtype"),
        "features_format": ref.get("format"),
        "quality": quality if isinstance(quality, dict) else None,
        "annotation_intent": annotation.get("intent"),
    }


def _started(event: Row) -> Row:
    return {
        "session_id": event["session_id"],
        "user_id": event["user_id"],
        "status": "active",
        "start_record_id": event["record_id"],
        "start_time": event.get("start_time", event["timestamp"]),
        "performer_id": event["performer_id"],
        "end_record_id": None,
        "end_time": None,
        "end_performer_id": None,
        "is_training_data": bool(event.get("is_training_data", False)),
        "session_notes": event.get("session_notes"),
        "training_intent_label": event.get("training_intent_label"),
        "last_activity": event["timestamp"],
    }


def fold_session(row: Row | None, event: Row) -> Row | None:
    """The `sessions` row after `event` (None until a start is seen); mirrors a3cp.domain.session.fold."""
    kind = event.get("event")
    if row is None:
        return _started(event) if kind == START_EVENT else None
    updated = dict(row, last_activity=max(row["last_activity"], event["timestamp"]))
    if kind == END_EVENT and updated["end_record_id"] is None:
        updated.update(
            status="closed",
            end_record_id=event["record_id"],
            end_time=event.get("end_time", event["timestamp"]),
            end_performer_id=event["performer_id"],
        )
    return updated
