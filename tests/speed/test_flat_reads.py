"""Flat in the number of people: no request scans every log while the safety net runs in the background.

A spy on the log store counts the calls that enumerate logs or users (`log_sizes`, `log_names`,
`owner_of`, `session_ids`): a page of a user's sessions, a session, a record, a start and an end make
none; an unknown id makes exactly one scan, its last look before the 404. Counting calls, not timing:
a regression that scans every log again fails here whatever the machine's speed. The background net
itself (web/safety_net.py) is checked to start with the app and to pick up a log written behind the
append listener's back.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import utc_now
from a3cp.storage_layout import session_log_path
from bench.client import end_session, start_session
from bench.corpus import end_of, start_of
from eventstore import SessionLogStore, append_events
from projections.store import Projection
from tests.projection.projection_checks import as_user

pytestmark = pytest.mark.fast

SCANS = ("log_sizes", "log_names", "owner_of", "session_ids")
NET_WAIT_S = 30.0  # a readiness wait for the background task on a loaded machine, not a timed assertion


class CountingStore:
    """The projection's log store, counting the calls that look at every log or every user."""

    def __init__(self, store: SessionLogStore) -> None:
        self.store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name in SCANS:
            self.calls[name] += 1
        return getattr(self.store, name)


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + NET_WAIT_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def spied(client: TestClient) -> CountingStore:
    """The client's projection store behind a counting spy, once the app's safety net has made a pass."""
    projection: Projection = client.app.state.services.projection
    wait_until(projection.safety_net.live, "the app's background safety net never made a pass")
    spy = CountingStore(projection.store)
    projection.store = spy  # type: ignore[assignment]  # the spy answers every store call
    return spy


def test_reads_and_writes_do_not_scan_every_log(client: TestClient, spied: CountingStore) -> None:
    ana = as_user(client, "ana")
    sessions = []
    for _ in range(4):
        sessions.append(start_session(client, "ana", timestamp=utc_now()))
        end_session(client, sessions[-1], "ana", timestamp=utc_now())
    page = client.get("/session_manager/users/ana/sessions?limit=2", headers=ana)
    assert page.status_code == 200 and len(page.json()["sessions"]) == 2
    following = client.get(page.json()["next"], headers=ana)
    assert following.status_code == 200 and len(following.json()["sessions"]) == 2
    session = client.get(f"/session_manager/sessions/{sessions[0]}", headers=ana)
    assert session.status_code == 200
    record = client.get(f"/records/{session.json()['start_record_id']}", headers=ana)
    assert record.status_code == 200
    assert spied.calls == Counter(), "a request enumerated every log or every user"


@pytest.mark.parametrize("path", ["/session_manager/sessions/{id}", "/records/{id}"])
def test_an_unknown_id_makes_one_scan_before_its_404(
    client: TestClient, spied: CountingStore, path: str
) -> None:
    answer = client.get(path.format(id=uuid.uuid4()), headers=as_user(client, "ana"))
    assert answer.status_code == 404
    assert spied.calls["log_sizes"] == 1, spied.calls


def test_the_background_net_applies_a_log_no_listener_applied(client: TestClient, settings: Settings) -> None:
    """A log written by other means (here the recorder alone, no projection listener) is served once a
    background pass has found it, though no request scans."""
    projection: Projection = client.app.state.services.projection
    wait_until(projection.safety_net.live, "the app's background safety net never made a pass")
    start = start_of("ana")
    session_id = start["session_id"]
    append_events(session_log_path(settings, "ana", session_id, create_dir=True), [start])
    ana = as_user(client, "ana")

    def listed() -> bool:
        page = client.get("/session_manager/users/ana/sessions", headers=ana).json()
        return [s["session_id"] for s in page["sessions"]] == [session_id]

    wait_until(listed, "the background net never applied the log")
    append_events(session_log_path(settings, "ana", session_id), [end_of("ana", session_id)])

    def closed() -> bool:
        page = client.get("/session_manager/users/ana/sessions", headers=ana).json()
        return [s["status"] for s in page["sessions"]] == ["closed"]

    wait_until(closed, "the background net never applied the log's new line")


def test_without_the_background_net_the_request_path_scans_at_most_once_a_second(settings: Settings) -> None:
    """The CLI and in-process users have no background task: their periodic scans run inline, as before."""
    projection = Projection(settings)
    projection.upgrade()
    spy = CountingStore(projection.store)
    projection.store = spy  # type: ignore[assignment]
    projection.catch_up(max_age_s=1.0)
    projection.catch_up(max_age_s=1.0)
    assert spy.calls["log_sizes"] == 1
    projection.safety_net.passed(0.0)
    projection._last_scan = -float("inf")  # as if the last inline scan were long ago
    assert projection.catch_up(max_age_s=1.0).files == 0
    assert spy.calls["log_sizes"] == 1, "the net is live: the periodic scan is skipped"
    projection.safety_net.stopped()
    projection.catch_up(max_age_s=1.0)
    assert spy.calls["log_sizes"] == 2, "the net stopped: the request path scans again"
    projection.engine.dispose()
