"""The session service and timeout sweep over the in-memory recorder (eventstore.MemoryLogStore):
start, replay, end, conflicts, another user's session, racing appends. No files, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from a3cp.domain.errors import RecordIdConflict, SessionAlreadyClosed, SessionNotFound, SessionUserMismatch
from a3cp.domain.events import Decision
from a3cp.domain.session import SessionState
from a3cp.domain.timeout import decide_timeout
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput, new_record_id
from a3cp.services.session_log import SessionLog
from a3cp.services.sessions import SessionService
from eventstore import MemoryLogStore, WrongExpectedPosition

STAMP = "2026-11-24T10:00:00.000Z"


@pytest.fixture
def store() -> MemoryLogStore:
    return MemoryLogStore()


@pytest.fixture
def appended_logs() -> list[str]:
    return []


@pytest.fixture
def service(store: MemoryLogStore, appended_logs: list[str]) -> SessionService:
    return SessionService(SessionLog(store, listeners=[appended_logs.append]))


def start(user_id: str = "ana", record_id: str | None = None, **fields: Any) -> SessionManagerStartInput:
    return SessionManagerStartInput(
        record_id=record_id or new_record_id(),
        user_id=user_id,
        timestamp=STAMP,
        performer_id="carer01",
        **fields,
    )


def end(session_id: str, user_id: str = "ana", record_id: str | None = None) -> SessionManagerEndInput:
    return SessionManagerEndInput(
        record_id=record_id or new_record_id(),
        user_id=user_id,
        session_id=session_id,
        timestamp=STAMP,
        performer_id="carer01",
    )


def test_start_then_retry_then_end_then_retry(
    service: SessionService, store: MemoryLogStore, appended_logs: list[str]
) -> None:
    request = start(is_training_data=True)
    first = service.start(request)
    assert service.start(request) == first, "a retried start answers the same"
    assert service.validate("ana", first.session_id) == "active"
    closing = end(first.session_id)
    ended = service.end(closing)
    assert service.end(closing) == ended, "a retried end answers the same"
    assert service.validate("ana", first.session_id) == "closed"
    kinds = [event["event"] for event in store.read("ana", first.session_id).events]
    assert kinds == ["session.start", "session.end"]
    assert appended_logs == [store.log_name("ana", first.session_id)] * 2, "one listener call per append"


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("end of a closed session", SessionAlreadyClosed),
        ("end of an unknown session", SessionNotFound),
        ("end of another user's session", SessionUserMismatch),
        ("start reusing another user's start record_id", RecordIdConflict),
        ("end reusing the start's record_id", RecordIdConflict),
    ],
)
def test_refusals_write_nothing(
    service: SessionService, store: MemoryLogStore, case: str, error: type[Exception]
) -> None:
    request = start()
    session_id = service.start(request).session_id
    if case == "end of a closed session":
        service.end(end(session_id))
    before = {name: store.read_from(name, 0).events for name in store.log_names()}
    attempts = {
        "end of a closed session": lambda: service.end(end(session_id)),
        "end of an unknown session": lambda: service.end(end("sess_unknown")),
        "end of another user's session": lambda: service.end(end(session_id, user_id="ben")),
        "start reusing another user's start record_id": lambda: service.start(
            start(user_id="ben", record_id=request.record_id)
        ),
        "end reusing the start's record_id": lambda: service.end(
            end(session_id, record_id=request.record_id)
        ),
    }
    with pytest.raises(error):
        attempts[case]()
    assert {name: store.read_from(name, 0).events for name in store.log_names()} == before


def test_validate_answers_invalid_for_malformed_unknown_and_foreign_sessions(service: SessionService) -> None:
    session_id = service.start(start()).session_id
    assert service.validate("ben", session_id) == "invalid"
    assert service.validate("ana", "sess_unknown") == "invalid"
    assert service.validate("ana", "../etc") == "invalid"
    assert service.validate("ana", None) == "invalid"


def test_a_racing_append_makes_the_decision_run_again(store: MemoryLogStore) -> None:
    log = SessionLog(store)
    session_id = SessionService(log).start(start()).session_id
    seen: list[int] = []

    def decide(state: SessionState) -> Decision:
        seen.append(state.position)
        if len(seen) == 1:  # another writer appends between our read and our append
            store.append("ana", session_id, {"event": "other.writer"})
        now = datetime(2030, 1, 1, tzinfo=UTC)
        return decide_timeout(state, now, 60.0, str(uuid.uuid4()))

    event = log.decide_and_append("ana", session_id, decide)
    assert seen == [1, 2] and event is not None and event.event == "session.end"
    assert [e["event"] for e in store.read("ana", session_id).events][-1] == "session.end"


def test_nothing_to_do_appends_nothing(store: MemoryLogStore) -> None:
    log = SessionLog(store)
    session_id = SessionService(log).start(start()).session_id
    now = datetime(2026, 11, 24, 10, tzinfo=UTC) + timedelta(seconds=1)
    assert (
        log.decide_and_append("ana", session_id, lambda s: decide_timeout(s, now, 60.0, new_record_id()))
        is None
    )
    assert len(store.read("ana", session_id).events) == 1


def test_the_memory_store_checks_the_expected_position(store: MemoryLogStore) -> None:
    store.append("ana", "s1", {"n": 1}, expected_position=0)
    with pytest.raises(WrongExpectedPosition):
        store.append("ana", "s1", {"n": 2}, expected_position=0)
    read = store.read("ana", "s1")
    assert read.events == [{"n": 1}] and read.offsets == [0]
    assert dict(store.log_sizes()) == {store.log_name("ana", "s1"): read.end_offset}
    assert store.owner_of("s1") == "ana" and store.owner_of("s2") is None


def test_one_active_session_per_person(service: SessionService, store: MemoryLogStore) -> None:
    first = service.start(start())
    joined = service.start(start(session_notes="from a second tablet"))
    assert joined == first, "a second start answers the active session, its own start event"
    assert store.session_ids("ana") == [first.session_id], "and records nothing"
    assert service.start(start(user_id="ben")).session_id != first.session_id
    service.end(end(first.session_id))
    after = service.start(start())
    assert after.session_id != first.session_id and after.record_id != first.record_id
    assert sorted(store.session_ids("ana")) == sorted([first.session_id, after.session_id])


class _CountingStore(MemoryLogStore):
    """A memory store that counts whole-log reads per session."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def read(self, user_id: str, session_id: str) -> Any:
        self.reads.append(session_id)
        return super().read(user_id, session_id)


def test_a_start_reads_only_the_logs_of_the_active_candidates() -> None:
    """With a projection naming the person's active sessions, a start reads those logs and its own, not
    every closed one; the answer is still decided on the logs (a stale candidate that is closed in its
    log does not count), and without an answer from the projection every log is read."""
    store = _CountingStore()
    plain = SessionService(SessionLog(store))
    closed = []
    for _ in range(5):
        closed.append(plain.start(start()).session_id)
        plain.end(end(closed[-1]))
    active: list[str] | None = [closed[0]]  # stale: the projection lags behind the end of closed[0]
    service = SessionService(SessionLog(store), find_active=lambda user_id: active)
    store.reads.clear()
    first = service.start(start())
    assert set(store.reads) == {first.session_id, closed[0]}
    active = [first.session_id]
    assert service.start(start()) == first, "the candidate is active in its log: it is joined"
    active = None  # the projection cannot say: every log is read
    store.reads.clear()
    assert service.start(start()) == first
    assert set(closed) <= set(store.reads)
