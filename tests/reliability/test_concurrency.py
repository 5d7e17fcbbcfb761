"""Concurrency: several processes append to one log, and race sessions.end over HTTP on one log dir."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest
from events import make_event

from a3cp.config import Settings
from a3cp.schemas import EventEnvelope
from a3cp.storage_layout import session_log_path
from bench.client import end_body
from eventstore import append_event, read_log
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.sessions import start_session_in
from web.app import create_app

WRITERS, APPENDS = 4, 250
RACERS, ROUNDS = 4, 5
FORK = multiprocessing.get_context("fork")


def _append_many(log: Path, writer: int, barrier) -> None:
    barrier.wait()
    for seq in range(APPENDS):
        append_event(log, make_event(writer=writer, seq=seq))


@pytest.mark.fast
def test_four_processes_append_to_one_log(tmp_path: Path, reliability_report) -> None:
    log = tmp_path / "shared.log"
    barrier = FORK.Barrier(WRITERS)
    writers = [FORK.Process(target=_append_many, args=(log, w, barrier)) for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0

    data = log.read_bytes()
    read = read_log(log)
    assert read.torn == [] and data.endswith(b"\n")
    assert data.count(b"\n") == len(read.events) == WRITERS * APPENDS
    for event in read.events:
        EventEnvelope.model_validate(event)
    assert len({event["record_id"] for event in read.events}) == WRITERS * APPENDS
    for writer in range(WRITERS):
        assert [e["seq"] for e in read.events if e["writer"] == writer] == list(range(APPENDS))
    switches = sum(a["writer"] != b["writer"] for a, b in zip(read.events, read.events[1:], strict=False))
    reliability_report.add(
        f"{WRITERS} processes x {APPENDS} appends to one session log",
        WRITERS * APPENDS,
        f"{len(read.events)} valid lines, 0 torn, no interleaving, per-writer order kept "
        f"({switches} switches between writers)",
    )


def _end_over_http(settings: Settings, body: dict, barrier, results) -> None:
    with signed_in_client(create_app(settings)) as client:  # each process: its own app, like a worker
        barrier.wait()
        response = client.post("/session_manager/sessions.end", json=body)
        results.put((response.status_code, response.json()))


def test_racing_http_ends_from_processes_record_one_end(settings: Settings, reliability_report) -> None:
    # The parent starts sessions through the service, not a TestClient: it must hold no threads when
    # it forks the racers (a lock held by another thread at fork time could hang a child).
    statuses: Counter[int] = Counter()
    for _ in range(ROUNDS):
        session_id = start_session_in(settings)
        barrier, results = FORK.Barrier(RACERS), FORK.Queue()
        requests = [end_body(session_id) for _ in range(RACERS)]  # distinct record_ids
        racers = [FORK.Process(target=_end_over_http, args=(settings, r, barrier, results)) for r in requests]
        for racer in racers:
            racer.start()
        answers = [results.get(timeout=120) for _ in racers]
        for racer in racers:
            racer.join(timeout=120)
        codes = sorted(status for status, _ in answers)
        assert codes == [200] + [409] * (RACERS - 1), answers
        statuses.update(codes)
        events = read_log(session_log_path(settings, "elias01", session_id)).events
        assert [e["event"] for e in events] == ["session.start", "session.end"]
    reliability_report.add(
        f"{RACERS} processes race sessions.end over HTTP on one session",
        ROUNDS * RACERS,
        f"{ROUNDS} sessions, each exactly one end event; answers: {statuses[200]} x 200, "
        f"{statuses[409]} x 409 session_closed",
    )
