"""The read API's service: bring the projection up to date (and sweep timeouts), then query it."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from a3cp.config import require_safe_id
from a3cp.domain.errors import RecordNotFound, SessionNotFound
from a3cp.schemas import RecordLocation, SessionDetail, UserSessions
from a3cp.services.timeouts import TimeoutSweeper
from projections import queries
from projections.store import Projection

logger = logging.getLogger("a3cp.projection")


class ReadService:
    """Answers from the projection after a catch-up, so every server process serves what the logs say."""

    def __init__(self, projection: Projection, sweeper: TimeoutSweeper) -> None:
        self.projection = projection
        self.sweeper = sweeper

    def _refresh(self) -> None:
        self.sweeper.sweep()  # catches up first; its own appends are applied by the append listener

    def session(self, session_id: str) -> SessionDetail:
        require_safe_id(session_id, "session_id")
        self._refresh()
        found = queries.session(self.projection.engine, session_id)
        if found is None:
            raise SessionNotFound(f"no session {session_id}", "session_id")
        return found

    def user_sessions(self, user_id: str) -> UserSessions:
        require_safe_id(user_id, "user_id")
        self._refresh()
        return queries.user_sessions(self.projection.engine, user_id)

    def find_record(self, record_id: str) -> RecordLocation | None:
        """Where `record_id` was logged in any log under LOG_ROOT (after a catch-up), or None.

        Writers use this as an extra check; when the projection is unavailable (deleted, being
        rebuilt, database down) they fall back to their own log's checks instead of failing.
        """
        try:
            self.projection.catch_up()
            return queries.record(self.projection.engine, record_id)
        except SQLAlchemyError:
            logger.warning(
                "record index unavailable; record_id %s checked against its own log only", record_id
            )
            return None

    def record(self, record_id: str) -> RecordLocation:
        """`record_id` must already be in canonical UUIDv4 form (the route validates it)."""
        self._refresh()
        found = queries.record(self.projection.engine, record_id)
        if found is None:
            raise RecordNotFound(f"no record {record_id}", "record_id")
        return found
