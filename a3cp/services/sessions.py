"""The session manager service: start, end and validate sessions against their logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from a3cp.config import UnsafeIdError, require_safe_id
from a3cp.domain.errors import RecordIdConflict
from a3cp.domain.session import (
    END_EVENT,
    START_EVENT,
    SessionState,
    check_start_replay,
    end_event,
    replayed_event,
    session_id_for,
    start_event,
)
from a3cp.schemas import (
    RecordLocation,
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

    def __init__(
        self, log: SessionLog, find_record: Callable[[str], RecordLocation | None] | None = None
    ) -> None:
        self.log = log
        self.find_record = find_record

    def _require_unused(self, record_id: str, session_id: str, kind: str) -> None:
        """A record_id already logged by another session or kind is a conflict (record_ids are unique
        across all logs); the same session and kind is a retry, which `decide` replays."""
        found = self.find_record(record_id) if self.find_record is not None else None
        if found is not None and (found.session_id, found.event) != (session_id, kind):
            raise RecordIdConflict("record_id was already used by another request", "record_id")

    def start(self, request: SessionManagerStartInput) -> SessionManagerStartOutput:
        session_id = session_id_for(request.record_id)
        owner = self.log.owner_of(session_id)
        if owner is not None and owner != request.user_id:
            raise RecordIdConflict("record_id was already used by another user's request", "record_id")
        self._require_unused(request.record_id, session_id, START_EVENT)

        def decide(state: SessionState) -> tuple[dict[str, Any], bool]:
            if state.exists:
                return check_start_replay(state, request), False
            return start_event(request, session_id, utc_now()), True

        event = self.log.decide_and_append(request.user_id, session_id, decide)
        return SessionManagerStartOutput.model_validate(event)

    def end(self, request: SessionManagerEndInput) -> SessionManagerEndOutput:
        self.log.load_existing(request.user_id, request.session_id)
        self._require_unused(request.record_id, request.session_id, END_EVENT)

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
