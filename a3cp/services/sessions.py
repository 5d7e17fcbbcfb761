"""The session manager service: start, end and validate sessions against their logs."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from a3cp.domain.errors import RecordIdConflict
from a3cp.domain.events import END_EVENT, START_EVENT, RecordedEvent, SessionStarted
from a3cp.domain.session import active_start, decide_end, decide_start, session_id_for
from a3cp.schemas import (
    RecordLocation,
    SessionManagerEndInput,
    SessionManagerEndOutput,
    SessionManagerStartInput,
    SessionManagerStartOutput,
    utc_now,
)
from a3cp.services.session_log import SessionLog
from a3cp.storage_layout import UnsafeIdError, require_safe_id

RecordFinder = Callable[[str], RecordLocation | None]
# The ids of a person's sessions the projection has as active, or None when it cannot say.
ActiveFinder = Callable[[str], list[str] | None]


def _recorded(event: RecordedEvent | None) -> RecordedEvent:
    assert event is not None, "a start or end decision always records or replays an event"
    return event


class SessionService:
    """Session lifecycle. Every decision is made on the session's own log, under optimistic
    concurrency, so retries are idempotent by record_id and racing ends record one end event."""

    def __init__(
        self,
        log: SessionLog,
        find_record: RecordFinder | None = None,
        find_active: ActiveFinder | None = None,
    ) -> None:
        self.log = log
        self.find_record = find_record
        self.find_active = find_active
        # One start at a time per person in this process, so two racing starts cannot both find no
        # active session (across processes this is not guaranteed: docs/upstream.md).
        self._start_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def _require_unused(self, record_id: str, user_id: str, session_id: str, kind: str) -> None:
        """A record_id already logged by another user, session or kind is a conflict (record_ids are
        unique across all logs); the same ones are a retry, which the decision replays. One lookup in
        the record index: no scan of other users' directories (the cost stays flat in their number)."""
        found = self.find_record(record_id) if self.find_record is not None else None
        if found is None:
            return
        if found.user_id != user_id:
            raise RecordIdConflict("record_id was already used by another user's request", "record_id")
        if (found.session_id, found.event) != (session_id, kind):
            raise RecordIdConflict("record_id was already used by another request", "record_id")

    def start(self, request: SessionManagerStartInput) -> SessionManagerStartOutput:
        """The started session; the person's active session when they have one (its own start event,
        whose record_id then differs from the request's)."""
        session_id = session_id_for(request.record_id)
        if self.find_record is None:  # no record index (fast tests): ask the logs, one lookup per user
            owner = self.log.owner_of(session_id)
            if owner is not None and owner != request.user_id:
                raise RecordIdConflict("record_id was already used by another user's request", "record_id")
        self._require_unused(request.record_id, request.user_id, session_id, START_EVENT)

        with self._start_locks[request.user_id]:
            active = self._active_start(request.user_id, besides=session_id)
            event = self.log.decide_and_append(
                request.user_id, session_id, lambda state: decide_start(state, request, utc_now(), active)
            )
        return SessionManagerStartOutput.model_validate(_recorded(event).to_record())

    def _active_start(self, user_id: str, besides: str) -> SessionStarted | None:
        """The start event of the person's active session other than `besides` (the latest started,
        should logs from before the one-session rule hold several).

        The projection names the candidates and each is decided on its own log, so the answer is the
        logs' and its cost does not grow with the person's closed sessions (bench.api --profile found
        this reading every log of the person at each start); without the projection, every log."""
        candidates = self.find_active(user_id) if self.find_active is not None else None
        if candidates is None:
            candidates = self.log.sessions_of(user_id)
        others = (self.log.records(user_id, sid) for sid in candidates if sid != besides)
        starts = [start for start in map(active_start, others) if start is not None]
        return max(starts, key=lambda start: start.start_time or start.timestamp, default=None)

    def end(self, request: SessionManagerEndInput) -> SessionManagerEndOutput:
        self.log.load_existing(request.user_id, request.session_id)
        self._require_unused(request.record_id, request.user_id, request.session_id, END_EVENT)
        event = self.log.decide_and_append(
            request.user_id, request.session_id, lambda state: decide_end(state, request, utc_now())
        )
        return SessionManagerEndOutput.model_validate(_recorded(event).to_record())

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
