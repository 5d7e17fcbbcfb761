"""Table tests of the pure session and timeout decisions, and of the typed events' log form.

No I/O: states are folded from records built here; each case takes microseconds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from a3cp.config import SCHEMA_VERSION
from a3cp.domain.errors import (
    DomainError,
    InvalidRequest,
    RecordIdConflict,
    SessionAlreadyClosed,
    SessionNotFound,
)
from a3cp.domain.events import (
    Append,
    CaptureFeatures,
    RecordedEvent,
    Replay,
    SessionEnded,
    SessionStarted,
    parse_event,
)
from a3cp.domain.session import SessionState, active_start, decide_end, decide_start, fold, session_id_for
from a3cp.domain.timeout import decide_timeout
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput, format_timestamp

USER = "ana"
NOW = "2026-11-24T10:00:00.000Z"
LATER = "2026-11-24T10:05:00.000Z"


def start_request(
    record_id: str | None = None, user_id: str = USER, **fields: Any
) -> SessionManagerStartInput:
    return SessionManagerStartInput(
        record_id=record_id or str(uuid.uuid4()),
        user_id=user_id,
        timestamp="2026-11-24T09:59:59.900Z",
        performer_id="carer01",
        **fields,
    )


def end_request(session_id: str, record_id: str | None = None, **fields: Any) -> SessionManagerEndInput:
    return SessionManagerEndInput(
        record_id=record_id or str(uuid.uuid4()),
        user_id=USER,
        session_id=session_id,
        timestamp="2026-11-24T10:04:59.900Z",
        performer_id="carer01",
        **fields,
    )


def appended(decision: object) -> RecordedEvent:
    assert isinstance(decision, Append), decision
    return decision.event


def started(request: SessionManagerStartInput | None = None) -> tuple[SessionState, dict[str, Any]]:
    """The state of a session whose log holds only its start, and that start as logged."""
    request = request or start_request()
    session_id = session_id_for(request.record_id)
    record = appended(decide_start(SessionState(session_id, USER), request, NOW)).to_record()
    return fold(session_id, USER, [record]), record


def ended() -> tuple[SessionState, dict[str, Any]]:
    state, start = started()
    request = end_request(state.session_id)
    end = appended(decide_end(state, request, LATER)).to_record()
    return fold(state.session_id, USER, [start, end]), end


def test_a_start_is_logged_with_the_envelope_first_and_only_the_fields_given() -> None:
    request = start_request(is_training_data=True, session_notes="evening")
    _, record = started(request)
    assert list(record) == [
        "schema_version",
        "record_id",
        "user_id",
        "session_id",
        "timestamp",
        "source",
        "performer_id",
        "event",
        "start_time",
        "client_timestamp",
        "is_training_data",
        "session_notes",
    ]
    assert record["schema_version"] == SCHEMA_VERSION
    assert (record["event"], record["source"], record["start_time"]) == (
        "session.start",
        "session_manager",
        NOW,
    )
    assert record["session_id"] == session_id_for(request.record_id)


def test_a_retried_start_replays_the_recorded_event() -> None:
    request = start_request()
    state, record = started(request)
    decision = decide_start(state, request, LATER)
    assert isinstance(decision, Replay) and decision.event.to_record() == record


@pytest.mark.parametrize(
    "change",
    [{"user_id": "ben"}, {"record_id": str(uuid.uuid4())}],
    ids=["another user", "another record_id for the same session"],
)
def test_a_start_on_an_existing_session_by_another_request_is_a_conflict(change: dict[str, str]) -> None:
    request = start_request()
    state, _ = started(request)
    state.user_id = change.get("user_id", state.user_id)
    other = start_request(record_id=change.get("record_id", request.record_id), user_id=USER)
    with pytest.raises(RecordIdConflict):
        decide_start(state, other, LATER)


def test_an_end_closes_an_active_session() -> None:
    state, end = ended()
    assert not state.is_active and state.exists
    assert list(end)[8:] == ["end_time", "client_timestamp"] and end["end_time"] == LATER
    assert isinstance(state.end, SessionEnded) and state.end.end_reason is None


def test_a_retried_end_replays_even_after_the_session_closed() -> None:
    state, start = started()
    request = end_request(state.session_id)
    end = appended(decide_end(state, request, LATER)).to_record()
    closed = fold(state.session_id, USER, [start, end])
    decision = decide_end(closed, request, LATER)
    assert isinstance(decision, Replay) and decision.event.to_record() == end


CASES: list[tuple[str, type[DomainError], str | None]] = [
    ("end of a closed session", SessionAlreadyClosed, "session_id"),
    ("end of an unknown session", SessionNotFound, "session_id"),
    ("end_time before the start", InvalidRequest, "end_time"),
    ("end_time too far ahead", InvalidRequest, "end_time"),
    ("record_id of the start reused", RecordIdConflict, "record_id"),
]


@pytest.mark.parametrize(("case", "error", "field"), CASES, ids=[case for case, _, _ in CASES])
def test_refused_ends(case: str, error: type[DomainError], field: str | None) -> None:
    state, start = started()
    request = end_request(state.session_id)
    if case == "end of a closed session":
        state, _ = ended()
        request = end_request(state.session_id)
    elif case == "end of an unknown session":
        state = SessionState("sess_unknown", USER)
    elif case == "end_time before the start":
        request = end_request(state.session_id, end_time="2026-11-24T09:00:00.000Z")
    elif case == "end_time too far ahead":
        request = end_request(state.session_id, end_time="2026-11-24T11:00:00.000Z")
    elif case == "record_id of the start reused":
        request = end_request(state.session_id, record_id=start["record_id"])
    with pytest.raises(error) as raised:
        decide_end(state, request, LATER)
    assert raised.value.field == field


TIMEOUT_S = 600.0
LAST = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("idle_s", "closes"),
    [(0.0, False), (TIMEOUT_S - 0.001, False), (TIMEOUT_S, True), (TIMEOUT_S * 10, True)],
)
def test_the_timeout_closes_an_active_session_idle_for_the_timeout(idle_s: float, closes: bool) -> None:
    state, _ = started()
    now = LAST + timedelta(seconds=idle_s)
    record_id = str(uuid.uuid4())
    decision = decide_timeout(state, now, TIMEOUT_S, record_id)
    if not closes:
        assert decision is None
        return
    record = appended(decision).to_record()
    assert record["record_id"] == record_id and record["performer_id"] == "system"
    assert list(record)[8:] == ["end_time", "end_reason"] and record["end_reason"] == "timeout"
    assert record["end_time"] == format_timestamp(LAST + timedelta(seconds=TIMEOUT_S))
    assert record["timestamp"] == format_timestamp(now)


def test_the_timeout_leaves_closed_and_unknown_sessions_alone() -> None:
    far = LAST + timedelta(days=1)
    closed, _ = ended()
    assert decide_timeout(closed, far, TIMEOUT_S, str(uuid.uuid4())) is None
    assert decide_timeout(SessionState("sess_x", USER), far, TIMEOUT_S, str(uuid.uuid4())) is None


def test_fold_counts_every_line_and_types_the_events() -> None:
    state, start = started()
    other = dict(start, record_id=str(uuid.uuid4()), event="test.event")
    folded = fold(state.session_id, USER, [start, {"not": "an event"}, other])
    assert folded.position == 3
    assert isinstance(folded.start, SessionStarted)
    assert type(folded.events_by_record_id[other["record_id"]]) is RecordedEvent
    assert folded.last_activity == other["timestamp"]


def test_parse_event_round_trips_every_kind_and_rejects_a_broken_envelope() -> None:
    state, start = started()
    _, end = ended()
    feature = {
        **{key: start[key] for key in list(start)[:7]},
        "record_id": str(uuid.uuid4()),
        "source": "landmark_extractor",
        "performer_id": "system",
        "event": "capture.features",
        "raw_features_ref": {"uri": "a.npz", "hash": "sha256:" + "0" * 64, "shape": [3, 1662], "dims": 1662},
        "quality": {"pose": 1.0},
    }
    for record, kind in [(start, SessionStarted), (end, SessionEnded), (feature, CaptureFeatures)]:
        event = parse_event(record)
        assert type(event) is kind and event.to_record() == record
    assert parse_event(dict(start, timestamp="yesterday")) is None
    assert parse_event({k: v for k, v in start.items() if k != "record_id"}) is None


def test_a_start_while_the_person_has_an_active_session_replays_that_sessions_start() -> None:
    active_state, _ = started()
    assert active_state.start is not None
    request = start_request()
    fresh = SessionState(session_id_for(request.record_id), USER)
    decision = decide_start(fresh, request, LATER, active=active_state.start)
    assert decision == Replay(active_state.start), "nothing is appended; the active session answers"


def test_active_start_agrees_with_the_fold() -> None:
    """Open, closed, and open with a hand-made `session.end` line that is no valid event."""
    _, start = started()
    closed_state, _ = ended()
    closed = [event.to_record() for event in (closed_state.start, closed_state.end) if event is not None]
    logs = [[start], closed, [start, {"event": "session.end"}]]
    for records in logs:
        folded = fold("sess_x", USER, records)
        assert (active_start(records) is not None) == folded.is_active, records
        assert active_start(records) == (folded.start if folded.is_active else None)
