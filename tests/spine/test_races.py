"""Racing sessions.end calls, from threads and from processes on one real log: exactly one end event."""

from __future__ import annotations

import multiprocessing
import threading

from invariants import end_body, start_body

from a3cp.config import Settings, session_log_path
from a3cp.domain.errors import SessionAlreadyClosed
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput
from eventstore import read_log
from web.services import Services

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


def _process_racer(settings: Settings, body: dict, barrier, results) -> None:
    results.put(end_once(settings, body, barrier))


def start_session(settings: Settings) -> str:
    request = SessionManagerStartInput.model_validate(start_body())
    return Services.build(settings).sessions.start(request).session_id


def assert_one_end(settings: Settings, session_id: str, outcomes: list[str]) -> None:
    assert sorted(outcomes) == ["closed"] * (RACERS - 1) + ["ended"]
    events = read_log(session_log_path(settings, "elias01", session_id)).events
    assert [e["event"] for e in events] == ["session.start", "session.end"]


def test_racing_ends_from_threads(settings: Settings) -> None:
    session_id = start_session(settings)
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
    context = multiprocessing.get_context("fork")
    session_id = start_session(settings)
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    racers = [
        context.Process(target=_process_racer, args=(settings, end_body(session_id), barrier, results))
        for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    assert_one_end(settings, session_id, outcomes)
