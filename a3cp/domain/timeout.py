"""The session timeout decision: an active session idle for the timeout gets a system end event.

Pure: the caller passes the session's state (folded from its own log), the current time and the
record_id to use. The recorded `end_time` is the last activity plus the timeout (when the session
actually became idle-expired), not the moment a sweep happened to notice it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from a3cp.domain.events import SESSION_SOURCE, TIMEOUT_REASON, Append, Decision, SessionEnded
from a3cp.domain.session import SessionState
from a3cp.schemas import SYSTEM_PERFORMER, format_timestamp, parse_timestamp


def decide_timeout(state: SessionState, now: datetime, timeout_s: float, record_id: str) -> Decision:
    """The system end event for `state` if it is active and idle for at least `timeout_s`, else None."""
    if not state.is_active or state.last_activity is None:
        return None
    expired_at = parse_timestamp(state.last_activity) + timedelta(seconds=timeout_s)
    if expired_at > now:
        return None
    return Append(
        SessionEnded(
            record_id=record_id,
            user_id=state.user_id,
            session_id=state.session_id,
            timestamp=format_timestamp(now),
            source=SESSION_SOURCE,
            performer_id=SYSTEM_PERFORMER,
            end_time=format_timestamp(expired_at),
            end_reason=TIMEOUT_REASON,
        )
    )
