"""Session state folded from a session's own log, and the decisions that append to it.

A session log starts with one `session.start` event, holds any number of capture events, and ends
with at most one `session.end` event, after which nothing is appended.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from a3cp.config import SCHEMA_VERSION
from a3cp.domain.errors import (
    InvalidRequest,
    RecordIdConflict,
    SessionAlreadyClosed,
    SessionNotFound,
)
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput, parse_timestamp

SESSION_SOURCE = "session_manager"
START_EVENT = "session.start"
END_EVENT = "session.end"
MAX_END_TIME_AHEAD_S = 300.0  # an end_time further than this past the server's clock is refused
_START_FIELDS = (
    "is_training_data",
    "session_notes",
    "training_intent_label",
    "device_id",
    "consent_given",
    "is_demo",
)


def session_id_for(start_record_id: str) -> str:
    """The session id a start request creates: derived from its (random) record_id, so a retried
    start finds its session again in any process, with no shared state."""
    digest = hashlib.sha256(f"a3cp-session:{start_record_id}".encode()).hexdigest()
    return f"sess_{digest[:32]}"


@dataclass
class SessionState:
    """What a session's log says about it."""

    session_id: str
    user_id: str
    position: int = 0
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    events_by_record_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_activity: str | None = None

    @property
    def exists(self) -> bool:
        return self.start is not None

    @property
    def is_active(self) -> bool:
        return self.start is not None and self.end is None


def fold(session_id: str, user_id: str, events: Iterable[dict[str, Any]]) -> SessionState:
    """Replay a session's events into its state."""
    state = SessionState(session_id=session_id, user_id=user_id)
    for event in events:
        state.position += 1
        state.events_by_record_id.setdefault(event.get("record_id", ""), event)
        state.last_activity = event.get("timestamp", state.last_activity)
        kind = event.get("event")
        if kind == START_EVENT and state.start is None:
            state.start = event
        elif kind == END_EVENT and state.end is None:
            state.end = event
    return state


def start_event(request: SessionManagerStartInput, session_id: str, now: str) -> dict[str, Any]:
    """The event a new session's log begins with."""
    event: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "record_id": request.record_id,
        "user_id": request.user_id,
        "session_id": session_id,
        "timestamp": now,
        "source": SESSION_SOURCE,
        "performer_id": request.performer_id,
        "event": START_EVENT,
        "start_time": now,
        "client_timestamp": request.timestamp,
    }
    for name in _START_FIELDS:
        value = getattr(request, name)
        if value is not None:
            event[name] = value
    return event


def check_start_replay(state: SessionState, request: SessionManagerStartInput) -> dict[str, Any]:
    """A start whose session already exists is a retry: return the recorded start or refuse."""
    assert state.start is not None
    if state.start["record_id"] != request.record_id or state.user_id != request.user_id:
        raise RecordIdConflict("record_id was already used by another request", "record_id")
    return state.start


def require_active(state: SessionState) -> None:
    """Raise unless the session exists and is not closed."""
    if not state.exists:
        raise SessionNotFound(f"no session {state.session_id}", "session_id")
    if not state.is_active:
        raise SessionAlreadyClosed(f"session {state.session_id} is closed", "session_id")


def replayed_event(state: SessionState, record_id: str, kind: str) -> dict[str, Any] | None:
    """The event already recorded for this record_id (a retried request), if it is of `kind`.

    A record_id already used by an event of another kind is a conflict.
    """
    existing = state.events_by_record_id.get(record_id)
    if existing is None:
        return None
    if existing.get("event") != kind:
        raise RecordIdConflict("record_id was already used by another event", "record_id")
    return existing


def end_event(state: SessionState, request: SessionManagerEndInput, now: str) -> dict[str, Any]:
    """The event that closes an active session; refuses an end time before the start or in the future."""
    require_active(state)
    assert state.start is not None
    end_time = request.end_time or now
    if parse_timestamp(end_time) < parse_timestamp(state.start["start_time"]):
        raise InvalidRequest("end_time is before the session's start_time", "end_time")
    if (parse_timestamp(end_time) - parse_timestamp(now)).total_seconds() > MAX_END_TIME_AHEAD_S:
        raise InvalidRequest(
            f"end_time is more than {MAX_END_TIME_AHEAD_S:.0f} s after the server's time", "end_time"
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": request.record_id,
        "user_id": state.user_id,
        "session_id": state.session_id,
        "timestamp": now,
        "source": SESSION_SOURCE,
        "performer_id": request.performer_id,
        "event": END_EVENT,
        "end_time": end_time,
        "client_timestamp": request.timestamp,
    }
