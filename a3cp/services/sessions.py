"""The session manager service: start, end and validate sessions against their logs."""

from __future__ import annotations

from typing import Any

from a3cp.config import UnsafeIdError, require_safe_id
from a3cp.domain.errors import RecordIdConflict
from a3cp.domain.session import (
    END_EVENT,
    SessionState,
    check_start_replay,
    end_event,
    replayed_event,
    session_id_for,
    start_event,
)
from a3cp.schemas import (
    SessionManagerEndInput,
    SessionManagerEndOutput,
    SessionManagerStartInput,
    SessionManagerStartOutput,
    utc_now,
)
from a3cp.services.session_log import SessionLog


class SessionService:
    """Session lifecycle. Every decision is made on the session's own log, under optimistic
    concurrency, so retries are idempotent by record_id and racing ends record one end event."""

    def __init__(self, log: SessionLog) -> None:
        self.log = log

    def start(self, request: SessionManagerStartInput) -> SessionManagerStartOutput:
        session_id = session_id_for(request.record_id)
        owner = self.log.owner_of(session_id)
        if owner is not None and owner != request.user_id:
            raise RecordIdConflict("record_id was already used by another user's request", "record_id")

        def decide(state: SessionState) -> tuple[dict[str, Any], bool]:
            if state.exists:
                return check_start_replay(state, request), False
            return start_event(request, session_id, utc_now()), True

        event = self.log.decide_and_append(request.user_id, session_id, decide)
        return SessionManagerStartOutput.model_validate(event)

    def end(self, request: SessionManagerEndInput) -> SessionManagerEndOutput:
        self.log.load_existing(request.user_id, request.session_id)

        def decide(state: SessionState) -> tuple[dict[str, Any], bool]:
            replay = replayed_event(state, request.record_id, END_EVENT)
            if replay is not None:
                return replay, False
            return end_event(state, request, utc_now()), True

        event = self.log.decide_and_append(request.user_id, request.session_id, decide)
        return SessionManagerEndOutput.model_validate(event)

    def validate(self, user_id: str, session_id: str | None) -> str:
        """'active' | 'closed' | 'invalid' (unknown, malformed, or another user's session)."""
        try:
            require_safe_id(user_id, "user_id")
            require_safe_id(session_id or "", "session_id")
        except UnsafeIdError:
            return "invalid"
        state = self.log.load(user_id, session_id or "")
        if not state.exists:
            return "invalid"
        return "active" if state.is_active else "closed"
