"""Racing requests on one real log, from threads and from processes: exactly one event recorded."""

from __future__ import annotations

import threading

import pytest

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.domain.errors import SessionAlreadyClosed
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput
from a3cp.storage_layout import session_log_path
from bench.client import end_body, request_body
from eventstore import read_log
from tests.fixtures.races import race_in_processes
from tests.fixtures.sessions import start_session_in

pytestmark = pytest.mark.fast

RACERS = 6


def end_once(settings: Settings, body: dict, barrier) -> str:
    """One racer: its own service stack (as a separate worker would have), then end at the barrier."""
    sessions = Services.build(settings).sessions
    request = SessionManagerEndInput.model_validate(body)
    barrier.wait()
    try:
        sessions.end(request)
    except SessionAlreadyClosed:
        return "closed"
    return "ended"


def start_once(settings: Settings, body: dict, barrier) -> dict:
    sessions = Services.build(settings).sessions
    request = SessionManagerStartInput.model_validate(body)
    barrier.wait()
    return sessions.start(request).model_dump()


def assert_one_end(settings: Settings, session_id: str, outcomes: list[str]) -> None:
    assert sorted(outcomes) == ["closed"] * (RACERS - 1) + ["ended"]
    events = read_log(session_log_path(settings, "elias01", session_id)).events
    assert [e["event"] for e in events] == ["session.start", "session.end"]


def test_racing_ends_from_threads(settings: Settings) -> None:
    session_id = start_session_in(settings)
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(end_once(settings, end_body(session_id), barrier)))
        for _ in range(RACERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_one_end(settings, session_id, outcomes)


def test_racing_ends_from_processes(settings: Settings) -> None:
    session_id = start_session_in(settings)
    outcomes = race_in_processes(end_once, settings, [end_body(session_id) for _ in range(RACERS)])
    assert_one_end(settings, session_id, outcomes)


def test_one_start_retried_from_racing_processes_records_one_start(settings: Settings) -> None:
    body = request_body()
    answers = race_in_processes(start_once, settings, [body] * RACERS)
    assert all(answer == answers[0] for answer in answers), "every retry gets the first answer"
    events = read_log(session_log_path(settings, "elias01", answers[0]["session_id"])).events
    assert [e["record_id"] for e in events] == [body["record_id"]]
