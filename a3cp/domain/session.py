"""Session state folded from a session's own log, and the decisions that append to it.

A session log starts with one `session.start` event, holds any number of capture events, and ends
with at most one `session.end` event, after which nothing is appended. A person has at most one active
session: a start while one is active answers that session and records nothing (docs/upstream.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from a3cp.domain.errors import (
    InvalidRequest,
    RecordIdConflict,
    SessionAlreadyClosed,
    SessionNotFound,
)
from a3cp.domain.events import (
    END_EVENT,
    SESSION_SOURCE,
    START_EVENT,
    Append,
    Decision,
    RecordedEvent,
    Replay,
    SessionEnded,
    SessionStarted,
    parse_event,
)
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput, parse_timestamp

MAX_END_TIME_AHEAD_S = 300.0  # an end_time further than this past the server's clock is refused


def session_id_for(start_record_id: str) -> str:
    """The session id a start request creates: derived from its (random) record_id, so a retried
    start finds its session again in any process, with no shared state."""
    digest = hashlib.sha256(f"a3cp-session:{start_record_id}".encode()).hexdigest()
    return f"sess_{digest[:32]}"


@dataclass
class SessionState:
    """What a session's log says about it. `position` counts every valid line of the log (what the
    recorder's expected position is checked against), events or not."""

    session_id: str
    user_id: str
    position: int = 0
    start: SessionStarted | None = None
    end: SessionEnded | None = None
    events_by_record_id: dict[str, RecordedEvent] = field(default_factory=dict)
    last_activity: str | None = None

    @property
    def exists(self) -> bool:
        return self.start is not None

    @property
    def is_active(self) -> bool:
        return self.start is not None and self.end is None


def fold(session_id: str, user_id: str, records: Iterable[Mapping[str, Any]]) -> SessionState:
    """Replay a session's logged records into its state."""
    state = SessionState(session_id=session_id, user_id=user_id)
    for record in records:
        state.position += 1
        event = parse_event(record)
        if event is None:
            continue
        state.events_by_record_id.setdefault(event.record_id, event)
        state.last_activity = event.timestamp
        if isinstance(event, SessionStarted) and state.start is None:
            state.start = event
        elif isinstance(event, SessionEnded) and state.end is None:
            state.end = event
    return state


def active_start(records: Sequence[Mapping[str, Any]]) -> SessionStarted | None:
    """The start event of a log whose session is active (what `fold(...).is_active` says), parsing only
    the lines that decide it: the first valid start, and any end. A person's every log is checked at
    each start, and most are closed; this keeps that check to one parsed line per closed log."""
    for record in records:
        if record.get("event") == END_EVENT and isinstance(parse_event(record), SessionEnded):
            return None
    for record in records:
        if record.get("event") == START_EVENT:
            event = parse_event(record)
            if isinstance(event, SessionStarted):
                return event
    return None


def decide_start(
    state: SessionState, request: SessionManagerStartInput, now: str, active: SessionStarted | None = None
) -> Decision:
    """A new session's first event; the replay of a retried start (its log already started); or, when
    the person already has an `active` session, that session's start: one person, one session at a
    time, so a second tablet or a reloaded page joins the session under way instead of splitting the
    person's captures across two. Nothing is recorded for such a start, so the logs (and every
    projection rebuilt from them) hold one start per session."""
    if state.start is not None:
        if state.start.record_id != request.record_id or state.user_id != request.user_id:
            raise RecordIdConflict("record_id was already used by another request", "record_id")
        return Replay(state.start)
    if active is not None:
        return Replay(active)
    return Append(
        SessionStarted(
            record_id=request.record_id,
            user_id=request.user_id,
            session_id=state.session_id,
            timestamp=now,
            source=SESSION_SOURCE,
            performer_id=request.performer_id,
            start_time=now,
            client_timestamp=request.timestamp,
            is_training_data=request.is_training_data,
            session_notes=request.session_notes,
            training_intent_label=request.training_intent_label,
            device_id=request.device_id,
            consent_given=request.consent_given,
            is_demo=request.is_demo,
        )
    )


def require_active(state: SessionState) -> None:
    """Raise unless the session exists and is not closed."""
    if not state.exists:
        raise SessionNotFound(f"no session {state.session_id}", "session_id")
    if not state.is_active:
        raise SessionAlreadyClosed(f"session {state.session_id} is closed", "session_id")


def replayed_event(state: SessionState, record_id: str, kind: str) -> RecordedEvent | None:
    """The event already recorded for this record_id (a retried request), if it is of `kind`.

    A record_id already used by an event of another kind is a conflict.
    """
    existing = state.events_by_record_id.get(record_id)
    if existing is None:
        return None
    if existing.event != kind:
        raise RecordIdConflict("record_id was already used by another event", "record_id")
    return existing


def decide_end(state: SessionState, request: SessionManagerEndInput, now: str) -> Decision:
    """The event that closes an active session, or the replay of a retried end; refuses an end time
    before the start or too far in the future."""
    replay = replayed_event(state, request.record_id, END_EVENT)
    if replay is not None:
        return Replay(replay)
    require_active(state)
    assert state.start is not None
    end_time = request.end_time or now
    if parse_timestamp(end_time) < parse_timestamp(state.start.start_time or state.start.timestamp):
        raise InvalidRequest("end_time is before the session's start_time", "end_time")
    if (parse_timestamp(end_time) - parse_timestamp(now)).total_seconds() > MAX_END_TIME_AHEAD_S:
        raise InvalidRequest(
            f"end_time is more than {MAX_END_TIME_AHEAD_S:.0f} s after the server's time", "end_time"
        )
    return Append(
        SessionEnded(
            record_id=request.record_id,
            user_id=state.user_id,
            session_id=state.session_id,
            timestamp=now,
            source=SESSION_SOURCE,
            performer_id=request.performer_id,
            end_time=end_time,
            client_timestamp=request.timestamp,
        )
    )
