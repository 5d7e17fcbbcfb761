"""Reading a session's state from its log and appending decisions with optimistic concurrency.

Used by every service that writes to a session log, so that "is this session active" is always
decided from the log itself and two racing writers can never both act on the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from a3cp.config import Settings, UnsafeIdError, session_log_path
from a3cp.domain.errors import SessionNotFound, SessionUserMismatch
from a3cp.domain.session import SessionState, fold
from eventstore import WrongExpectedPosition, append_event, read_log

AppendListener = Callable[[Path], None]
MAX_APPEND_ATTEMPTS = 20


class SessionLog:
    """One LOG_ROOT seen as session logs: load a session's state, append to it, find its owner."""

    def __init__(self, settings: Settings, listeners: list[AppendListener] | None = None) -> None:
        self.settings = settings
        self.listeners: list[AppendListener] = list(listeners or [])

    def load(self, user_id: str, session_id: str) -> SessionState:
        """The session's state as its log has it (empty state when there is no log)."""
        return fold(
            session_id, user_id, read_log(session_log_path(self.settings, user_id, session_id)).events
        )

    def owner_of(self, session_id: str) -> str | None:
        """The user whose log directory holds `session_id`, if any (one lookup per user)."""
        users = self.settings.log_root / "users"
        names = sorted(entry.name for entry in users.iterdir()) if users.is_dir() else []
        return next((name for name in names if self._has_log(name, session_id)), None)

    def _has_log(self, user_id: str, session_id: str) -> bool:
        try:
            return session_log_path(self.settings, user_id, session_id).is_file()
        except UnsafeIdError:  # a stray directory under users/ that is not a user id
            return False

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
        self,
        user_id: str,
        session_id: str,
        decide: Callable[[SessionState], tuple[dict[str, Any], bool]],
    ) -> dict[str, Any]:
        """Run `decide` on fresh state and append its event if it says so, retrying on a race.

        `decide` returns (event, is_new): an existing event (a replayed request) is returned
        without appending. Domain errors raised by `decide` propagate unchanged.
        """
        path = session_log_path(self.settings, user_id, session_id, create_dir=True)
        for _ in range(MAX_APPEND_ATTEMPTS):
            state = fold(session_id, user_id, read_log(path).events)
            event, is_new = decide(state)
            if not is_new:
                return event
            try:
                append_event(path, event, expected_position=state.position)
            except WrongExpectedPosition:
                continue
            for listener in self.listeners:
                listener(path)
            return event
        raise RuntimeError(f"session log {session_id} kept changing; gave up after retries")
