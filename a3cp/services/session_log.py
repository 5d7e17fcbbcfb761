"""Reading a session's state from its log and appending decisions with optimistic concurrency.

Used by every service that writes to a session log, so that "is this session active" is always
decided from the log itself and two racing writers can never both act on the same state. The logs
are reached through a `SessionLogStore` (files in production, memory in fast tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from a3cp.domain.errors import SessionNotFound, SessionUserMismatch
from a3cp.domain.events import Append, Decision, RecordedEvent, Replay
from a3cp.domain.session import SessionState, fold
from a3cp.storage_layout import require_safe_id
from eventstore import SessionLogStore, WrongExpectedPosition

# Called with the log's name (SessionLogStore.log_name) after each append, e.g. to project it at once.
AppendListener = Callable[[str], None]
MAX_APPEND_ATTEMPTS = 20


class SessionLog:
    """One store of session logs: load a session's state, append to it, find its owner."""

    def __init__(self, store: SessionLogStore, listeners: list[AppendListener] | None = None) -> None:
        self.store = store
        self.listeners: list[AppendListener] = list(listeners or [])

    def load(self, user_id: str, session_id: str) -> SessionState:
        """The session's state as its log has it (empty state when there is no log)."""
        return fold(session_id, user_id, self._read(user_id, session_id))

    def records(self, user_id: str, session_id: str) -> list[dict[str, Any]]:
        """The session's logged records, as the log has them (none when there is no log)."""
        return self._read(user_id, session_id)

    def _read(self, user_id: str, session_id: str) -> list[dict[str, Any]]:
        require_safe_id(user_id, "user_id")
        require_safe_id(session_id, "session_id")
        return self.store.read(user_id, session_id).events

    def owner_of(self, session_id: str) -> str | None:
        """The user whose logs hold `session_id`, if any."""
        return self.store.owner_of(session_id)

    def sessions_of(self, user_id: str) -> list[str]:
        """The ids of every session log `user_id` has."""
        return self.store.session_ids(require_safe_id(user_id, "user_id"))

    def load_existing(self, user_id: str, session_id: str) -> SessionState:
        """The state of a session that exists and belongs to `user_id`; raises the domain error."""
        state = self.load(user_id, session_id)
        if state.exists:
            return state
        owner = self.owner_of(session_id)
        if owner is not None and owner != user_id:  # an empty own log (a failed start) is "not found"
            raise SessionUserMismatch("session belongs to another user", "user_id")
        raise SessionNotFound(f"no session {session_id}", "session_id")

    def decide_and_append(
        self, user_id: str, session_id: str, decide: Callable[[SessionState], Decision]
    ) -> RecordedEvent | None:
        """Run `decide` on fresh state and append its event if it says so, retrying on a race.

        Returns the appended event, the replayed one (a retried request: nothing appended), or None
        when `decide` had nothing to do. Domain errors raised by `decide` propagate unchanged.
        """
        for _ in range(MAX_APPEND_ATTEMPTS):
            state = fold(session_id, user_id, self._read(user_id, session_id))
            match decide(state):
                case None:
                    return None
                case Replay(event):
                    return event
                case Append(event):
                    try:
                        self.store.append(
                            user_id, session_id, event.to_record(), expected_position=state.position
                        )
                    except WrongExpectedPosition:
                        continue
                    name = self.store.log_name(user_id, session_id)
                    for listener in self.listeners:
                        listener(name)
                    return event
        raise RuntimeError(f"session log {session_id} kept changing; gave up after retries")
