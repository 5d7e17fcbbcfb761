"""A rebuild in worker processes (projections/rebuild_parse.py) gives exactly the live projection and
the in-process rebuild, over logs with torn tails, lines without a valid envelope, a record_id logged
twice, consent and curation events and the access log; and the merged fold steps fold a session
exactly as one step per event does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from projection_checks import dump
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.domain.events import RecordedEvent, parse_event
from a3cp.storage_layout import access_log_path, session_log_path
from bench.client import consent_body, end_session, start_session
from bench.corpus import end_of, feature_of, start_of
from eventstore import LogRead, MemoryLogStore, append_event
from projections import queries, rebuild_parse, store
from projections.apply import FOLDED_KINDS, fold_session, touch
from projections.rebuild_parse import FoldStep, IndexRow, index_read, worker_count
from tests.fixtures.accounts import signed_in_client
from tests.projection.test_projection import feature_event
from web.app import create_app


def _torn(path: Path) -> None:
    with open(path, "ab") as handle:  # a crash fragment, written by hand (tests may write logs)
        handle.write(b'{"record_id": "cut off mid-wri')


def _corpus(client: TestClient, settings: Settings) -> None:
    """Sessions through the API, captures through the recorder, consent given and withdrawn, a
    capture labelled and another discarded, a torn line inside a log and one at a log's end, a
    line without a valid envelope, and a record_id logged twice in a log."""
    for user in ("ana", "ben"):
        assert client.post(f"/users/{user}/consent", json=consent_body("capture")).status_code == 201
    first = start_session(client, "ana")
    path = session_log_path(settings, "ana", first)
    captures = [feature_event("ana", first, 30) for _ in range(3)]
    for capture in captures:
        append_event(path, capture)
    _torn(path)  # in the middle: the next append marks it torn
    append_event(path, feature_event("ana", first, 12))
    append_event(path, dict(feature_event("ana", first, 5), record_id="not-a-uuid"))
    end_session(client, first, "ana")
    append_event(path, captures[0])  # a record_id logged twice: its first place counts
    start_session(client, "ana")
    third = start_session(client, "ben")
    third_path = session_log_path(settings, "ben", third)
    append_event(third_path, feature_event("ben", third, 20))
    _torn(third_path)  # at the end
    labelled = client.post(f"/records/{captures[1]['record_id']}/label", json={"label": "drink"})
    discarded = client.post(f"/records/{captures[2]['record_id']}/discard", json={"reason": "bad take"})
    assert (labelled.status_code, discarded.status_code) == (200, 200), (labelled.text, discarded.text)
    withdrawn = client.post("/users/ben/consent.withdraw", json={"scopes": ["capture"], "reason": "no"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert access_log_path(settings).stat().st_size > 0
    projection = client.app.state.services.projection
    for name in projection.store.log_names():  # the hand-made lines are not announced to the listener
        projection.catch_up_log(name)


def test_a_rebuild_in_workers_equals_the_live_projection_and_the_in_process_rebuild(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _corpus(client, settings)
    projection = client.app.state.services.projection
    live = dump(projection)
    monkeypatch.setattr(rebuild_parse, "PARALLEL_MIN_BYTES", 0)  # workers even for this small corpus
    monkeypatch.setattr(store, "REBUILD_BATCH_EVENTS", 3)  # batches end inside shares and sessions
    assert worker_count(projection.store, 2) == 2 and worker_count(projection.store, 1) == 0

    in_process = projection.rebuild(jobs=1)
    assert dump(projection) == live
    in_workers = projection.rebuild(jobs=2)

    assert dump(projection) == live
    assert in_workers.totals == in_process.totals
    assert (in_workers.totals.files, in_workers.totals.torn) == (5, 2)  # 3 logs, 2 consent streams
    # A record_id in two logs keeps its place in the log that sorts first (rebuilds read logs in
    # name order; live, the first appended wins): here only the two rebuilds must agree.
    names = projection.store.log_names()
    repeated = projection.store.read_from(names[-1], 0).events[-1]
    append_event(settings.log_root / names[0], repeated)
    projection.rebuild(jobs=1)
    once_more = dump(projection)
    located = queries.record(projection.engine, projection.store, repeated["record_id"])
    assert located is not None and located.log_path == names[0], "the log that sorts first keeps it"
    projection.rebuild(jobs=2)
    assert dump(projection) == once_more
    app = create_app(settings)
    with signed_in_client(app) as fresh:  # a fresh server serves the rebuilt projection
        assert dump(app.state.services.projection) == once_more
        sessions = fresh.get("/session_manager/users/ana/sessions").json()["sessions"]
        assert sessions == client.get("/session_manager/users/ana/sessions").json()["sessions"]
    app.state.services.projection.engine.dispose()


def test_a_store_held_in_memory_rebuilds_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_parse, "PARALLEL_MIN_BYTES", 0)
    memory = MemoryLogStore()  # its lock cannot be sent to another process
    start = start_of("ana")
    memory.append("ana", start["session_id"], start)
    assert worker_count(memory, 4) == 0


SESSIONS = ["s-one", "s-two"]
STEP = st.tuples(st.sampled_from(SESSIONS), st.sampled_from(["start", "feature", "end"]), st.integers(0, 59))


def _event(session_id: str, kind: str, second: int) -> dict[str, Any]:
    built = {"start": dict(start_of("ana"), session_id=session_id), "end": end_of("ana", session_id)}
    event = built.get(kind) or feature_of("ana", session_id)
    return dict(event, timestamp=f"2026-11-24T10:00:{second:02d}.000Z")


def _typed(record: dict[str, Any]) -> RecordedEvent:
    event = parse_event(record)
    assert event is not None
    return event


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, max_size=12), stored=st.booleans())
def test_merged_fold_steps_fold_as_one_step_per_event(
    steps: list[tuple[str, str, int]], stored: bool
) -> None:
    events = [_event(*step) for step in steps]
    # stored: the sessions were already folded by an earlier batch
    initial = {s: fold_session(None, _typed(_event(s, "start", 0))) if stored else None for s in SESSIONS}
    expected = dict(initial)
    for event in events:
        row = expected[event["session_id"]]
        kind = event["event"]
        folded = fold_session(row, _typed(event)) if kind in FOLDED_KINDS else touch(row, event["timestamp"])
        expected[event["session_id"]] = folded

    records: list[IndexRow] = []
    fold_steps: list[FoldStep] = []
    index_read(LogRead(events, list(range(len(events))), [], len(events)), 7, 0, records, fold_steps)
    batch = store._Batch(initial.__getitem__)
    batch.fold(fold_steps)

    assert records == [(e["record_id"], 7, i, i) for i, e in enumerate(events)]
    assert {s: batch.sessions.get(s, initial[s]) for s in SESSIONS} == expected
