"""The timeout sweep: close sessions idle for A3CP_SESSION_TIMEOUT_S with a system end event.

Candidates come from the projection (active sessions whose last activity is old enough); each is
then decided again on its own log under optimistic concurrency, so a session that saw new activity
or was ended meanwhile is left alone and racing sweepers record one end event. It runs in the app's
background task, before every read of the read API, and from `a3cp sweep`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from a3cp.domain.events import Decision
from a3cp.domain.session import SessionState
from a3cp.domain.timeout import decide_timeout
from a3cp.schemas import format_timestamp, new_record_id
from a3cp.services.session_log import SessionLog
from projections import queries
from projections.store import Projection


class TimeoutSweeper:
    """Ends idle sessions; returns the ids of the sessions it closed."""

    def __init__(self, log: SessionLog, projection: Projection, timeout_s: float) -> None:
        self.log = log
        self.projection = projection
        self.timeout_s = timeout_s

    def sweep(self, now: datetime | None = None, max_age_s: float = 0.0) -> list[str]:
        """`max_age_s`: the projection's scan of every log is skipped when one ran less than that long
        ago (Projection.catch_up); a candidate is decided on its log anyway, so a lagging projection
        only delays a timeout, by at most that long."""
        moment = now or datetime.now(UTC)
        cutoff = format_timestamp(moment - timedelta(seconds=self.timeout_s))

        def candidates() -> list[tuple[str, str]]:
            self.projection.catch_up(max_age_s=max_age_s)
            return queries.idle_sessions(self.projection.engine, cutoff)

        closed = []
        for user_id, session_id in self.projection.run(candidates):
            record_id = new_record_id()

            def decide(state: SessionState, record_id: str = record_id) -> Decision:
                return decide_timeout(state, moment, self.timeout_s, record_id)

            if self.log.decide_and_append(user_id, session_id, decide) is not None:
                closed.append(session_id)
        return closed
