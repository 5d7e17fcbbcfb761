"""The paginated session list: every session that existed when paging began appears exactly once, in
the list's order, whatever the page size and whatever is started meanwhile; bad parameters are 400s
naming the parameter."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import utc_now
from a3cp.schemas.projection import MAX_PAGE_LIMIT
from bench.client import end_session, start_session
from tests.fixtures.accounts import signed_in_client
from tests.projection.projection_checks import as_user
from web.app import create_app

LIST = "/session_manager/users/ana/sessions"


def start(client: TestClient, user_id: str = "ana") -> str:
    """A new session of `user_id`, ended at once: a person has one active session at a time."""
    session_id = start_session(client, user_id, timestamp=utc_now())
    end_session(client, session_id, user_id, timestamp=utc_now())
    return session_id


def pages(client: TestClient, limit: int, started_between: list[int]) -> list[dict[str, Any]]:
    """Every page's sessions, following `next`; before page i, starts started_between[i] sessions."""
    seen: list[dict[str, Any]] = []
    url: str | None = f"{LIST}?limit={limit}"
    turn = 0
    while url is not None:
        for _ in range(started_between[turn] if turn < len(started_between) else 0):
            start(client)
        turn += 1
        answer = client.get(url, headers=as_user(client, "ana"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["sessions"]) <= limit
        seen += body["sessions"]
        url = body["next"]
        assert (url is None) == (body["next_cursor"] is None)
    return seen


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    existing=st.integers(0, 9),
    limit=st.integers(1, 4),
    started_between=st.lists(st.integers(0, 2), max_size=4),
)
def test_every_session_appears_once_in_order(existing: int, limit: int, started_between: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        app = create_app(
            Settings(data_root=root / "d", log_root=root / "l", db_url=f"sqlite:///{root / 'p.sqlite3'}")
        )
        with signed_in_client(app) as client:
            before = {start(client) for _ in range(existing)}
            start(client, "ben")  # another user's session never shows
            seen = pages(client, limit, started_between)
        app.state.services.projection.engine.dispose()
    ids = [s["session_id"] for s in seen]
    assert len(ids) == len(set(ids)), "no session twice"
    assert before <= set(ids), "every session that existed when paging began"
    assert {s["user_id"] for s in seen} <= {"ana"}
    keys = [(s["start_time"], s["session_id"]) for s in seen]
    assert keys == sorted(keys), "oldest first, ties by session_id"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJ4IiwgInkiXQ", "cursor"),  # a well-formed pair that is no page key
        ("limit=0", "limit"),
        (f"limit={MAX_PAGE_LIMIT + 1}", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_bad_page_parameters_are_400_naming_the_parameter(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"{LIST}?{query}", headers=as_user(client, "ana"))
    assert response.status_code == 400, response.text
    assert [item["field"] for item in response.json()["fields"]] == [field]
