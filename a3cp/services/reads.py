"""The read API's service: sweep timeouts, then query the projection for a caller who sees only the
users `visible` admits (another user's sessions and records are "not found"). No read scans every log,
except the one last look before an unknown id's "not found".

Every read goes through `Projection.run`, so a deleted or damaged SQLite file is rebuilt from the
logs before the answer, or the caller gets ProjectionUnavailable (503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy import Engine

from a3cp.domain.errors import RecordNotFound, SessionNotFound, UserNotFound
from a3cp.faults import ProjectionUnavailable
from a3cp.schemas import MAX_PAGE_LIMIT, RecordLocation, SessionDetail, SessionsPageQuery, UserSessions
from a3cp.schemas.projection import encode_cursor
from a3cp.services.timeouts import TimeoutSweeper
from a3cp.storage_layout import require_safe_id
from eventstore import SessionLogStore
from projections import queries
from projections.store import Projection

logger = logging.getLogger("a3cp.projection")
T = TypeVar("T")
# The record_id check of every write scans the logs of other processes at most this often: a full
# scan costs one stat per log, which would make each write O(number of sessions). Appends of this
# process are in the index at once; the check across processes was never atomic anyway.
RECORD_CHECK_SCAN_INTERVAL_S = 1.0


class ReadService:
    """Answers from the projection after a catch-up, so every server process serves what the logs say."""

    def __init__(self, projection: Projection, sweeper: TimeoutSweeper) -> None:
        self.projection = projection
        self.sweeper = sweeper

    def _fresh(self, query: Callable[[], T]) -> T:
        """`query()` after the timeout sweep, both on an intact projection. Nothing here scans every log:
        every process applies its own appends before it answers (the append listener), into the
        database all processes share, and the scan that catches a failed listener runs in the
        server's background (projections/safety_net.py), or, without it, at most once per
        RECORD_CHECK_SCAN_INTERVAL_S. So a read costs the same however many logs there are."""

        def work() -> T:
            self.sweeper.sweep(max_age_s=RECORD_CHECK_SCAN_INTERVAL_S)
            return query()

        return self.projection.run(work)

    def session(self, session_id: str, visible: Callable[[str], bool]) -> SessionDetail:
        """Flat in the number of logs: the session's own log is brought up to date, not every log
        (every process applies its own appends before answering, into the database all share); only
        a session the projection has not seen makes a scan of every log, as a last look."""
        require_safe_id(session_id, "session_id")
        engine, store = self._sources

        def query() -> SessionDetail | None:
            owner = queries.session_owner(engine, session_id)
            if owner is None:
                self.projection.catch_up()
            else:
                self.projection.refresh_log(store.log_name(owner, session_id))
            return queries.session(engine, store, session_id)

        found = self._fresh(query)
        if found is None or not visible(found.user_id):
            raise SessionNotFound(f"no session {session_id}", "session_id")
        return found

    @property
    def _sources(self) -> tuple[Engine, SessionLogStore]:
        """What the queries read: the projection's database and, for details, the logs."""
        return self.projection.engine, self.projection.store

    def user_sessions(
        self, user_id: str, visible: Callable[[str], bool], page: SessionsPageQuery
    ) -> UserSessions:
        """One page of the user's sessions; `next_cursor` continues after its last one (the route
        turns it into the `next` link). One range of the sessions index: flat in the number of logs
        and of the user's sessions."""
        require_safe_id(user_id, "user_id")
        if not visible(user_id):
            raise UserNotFound(f"no sessions of user {user_id}", "user_id")
        engine, store = self._sources
        found, key = self._fresh(
            lambda: queries.user_sessions(engine, store, user_id, page.limit, page.cursor)
        )
        cursor = encode_cursor(key) if key is not None else None
        return UserSessions(user_id=user_id, sessions=found, next_cursor=cursor, next=None)

    def every_user_session(self, user_id: str, visible: Callable[[str], bool]) -> Iterator[SessionDetail]:
        """All of the user's sessions, oldest first, page by page (for the services that need every
        capture of a person, such as the recognizer's vocabulary)."""
        page = SessionsPageQuery.model_validate({"limit": MAX_PAGE_LIMIT})
        while True:
            found = self.user_sessions(user_id, visible, page)
            yield from found.sessions
            if found.next_cursor is None:
                return
            page = SessionsPageQuery.model_validate({"limit": MAX_PAGE_LIMIT, "cursor": found.next_cursor})

    def find_record(self, record_id: str) -> RecordLocation | None:
        """Where `record_id` was logged in any log under LOG_ROOT (after a catch-up), or None.

        Writers use this as an extra check; when the projection is unavailable (deleted and not
        rebuildable, database down) they fall back to their own log's checks instead of failing.
        Other processes' appends are seen within RECORD_CHECK_SCAN_INTERVAL_S.
        """

        def work() -> RecordLocation | None:
            self.projection.catch_up(max_age_s=RECORD_CHECK_SCAN_INTERVAL_S)
            return queries.record(*self._sources, record_id)

        try:
            return self.projection.run(work)
        except ProjectionUnavailable:
            logger.warning(
                "record index unavailable; record_id %s checked against its own log only", record_id
            )
            return None

    def active_sessions(self, user_id: str) -> list[str] | None:
        """The ids of the sessions of `user_id` the projection has as active (after the same catch-up as
        `find_record`), or None when the projection is unavailable: then the caller asks the logs.

        Every process applies its own appends before it answers (the append listener), and all share
        the database, so a start recorded by any process is seen here; only one whose listener failed
        waits for the next scan, at most RECORD_CHECK_SCAN_INTERVAL_S."""

        def work() -> list[str]:
            self.projection.catch_up(max_age_s=RECORD_CHECK_SCAN_INTERVAL_S)
            return queries.active_sessions(self.projection.engine, user_id)

        try:
            return self.projection.run(work)
        except ProjectionUnavailable:
            logger.warning("projection unavailable; %s's active session looked for in every log", user_id)
            return None

    def record(self, record_id: str, visible: Callable[[str], bool]) -> RecordLocation:
        """`record_id` must already be in canonical UUIDv4 form (the route validates it). A logged record
        never changes, so one found is answered as is; one not found makes a scan of every log first."""

        def query() -> RecordLocation | None:
            found = queries.record(*self._sources, record_id)
            if found is None and self.projection.catch_up().events:
                found = queries.record(*self._sources, record_id)
            return found

        found = self._fresh(query)
        if found is None or not visible(found.user_id):
            raise RecordNotFound(f"no record {record_id}", "record_id")
        return found
