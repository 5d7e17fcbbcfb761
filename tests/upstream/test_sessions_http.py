"""Session requests built as upstream A3CP's tests and browser client build them are accepted and
recorded with normalised timestamps; a timestamp without an offset is refused naming the field; a
second start while a session is active answers that session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import SessionManagerStartInput, format_timestamp
from a3cp.storage_layout import session_log_path
from eventstore import read_log

from .shapes import (
    end_as_browser,
    end_as_serialised,
    micro_offset,
    micro_z,
    start_as_browser,
    start_as_serialised,
)

START = "/session_manager/sessions.start"
END = "/session_manager/sessions.end"
VALIDATE = "/session_manager/sessions.validate"
USER = "test_user"


def logged(settings: Settings, session_id: str, user_id: str = USER) -> list[dict[str, Any]]:
    return read_log(session_log_path(settings, user_id, session_id)).events


def an_instant() -> datetime:
    """A moment just after the server's clock (an end_time may not precede the start) with a non-zero
    sub-millisecond part, which normalising must drop."""
    return (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=123456)


@pytest.mark.parametrize("form", [micro_z, micro_offset], ids=["microseconds-Z", "microseconds-+00:00"])
def test_serialised_start_and_end_are_accepted_and_recorded_normalised(
    page_client: TestClient, upstream_settings: Settings, form: Any
) -> None:
    moment = an_instant()
    started = page_client.post(START, json=start_as_serialised(USER, form(moment)))
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]

    ended = page_client.post(END, json=end_as_serialised(USER, session_id, form(moment), form(moment)))
    assert ended.status_code == 200, ended.text
    assert ended.json()["end_time"] == format_timestamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S.123Z")

    start, end = logged(upstream_settings, session_id)
    assert start["client_timestamp"] == end["client_timestamp"] == end["end_time"] == format_timestamp(moment)
    assert start["session_id"] == session_id  # the null session_id of the request was ignored


def test_a_numeric_offset_is_normalised_to_utc() -> None:
    body = start_as_serialised(USER, "2026-03-15T13:34:56.123456+01:00")
    assert SessionManagerStartInput.model_validate(body).timestamp == "2026-03-15T12:34:56.123Z"


def test_the_browser_page_flow_start_validate_end(
    page_client: TestClient, upstream_settings: Settings
) -> None:
    started = page_client.post(START, json=start_as_browser("demo_user"))
    assert started.is_success and started.json()["performer_id"] == "demo_user"
    session_id = started.json()["session_id"]
    validated = page_client.post(VALIDATE, json={"user_id": "demo_user", "session_id": session_id})
    assert validated.json()["status"] == "active"
    ended = page_client.post(END, json=end_as_browser("demo_user", session_id))
    assert ended.is_success, ended.text
    assert [e["event"] for e in logged(upstream_settings, session_id, "demo_user")] == [
        "session.start",
        "session.end",
    ]


@pytest.mark.parametrize(
    ("path", "field"),
    [(START, "timestamp"), (END, "end_time")],
)
def test_a_timestamp_without_offset_is_refused_naming_the_field(
    page_client: TestClient, path: str, field: str
) -> None:
    naive = "2026-03-15T12:34:56.123456"
    if path == START:
        body = start_as_serialised(USER, naive)
    else:
        session_id = page_client.post(START, json=start_as_browser(USER)).json()["session_id"]
        body = end_as_serialised(USER, session_id, micro_z(datetime.now(UTC)), naive)
    answer = page_client.post(path, json=body)
    assert answer.status_code == 400
    error = answer.json()
    assert [f["field"] for f in error["fields"]] == [field]
    assert "offset" in error["fields"][0]["message"]
    assert field in error["detail"] and error["detail"] == error["message"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("session_id", "sess_0123456789abcdef"), ("performer_id", 7), ("unknown_field", None)],
)
def test_only_upstreams_unset_fields_may_be_null(page_client: TestClient, key: str, value: Any) -> None:
    """session_id: null is accepted; a session_id value, a performer_id that is no id and an unknown
    field stay refused. (With accounts a null or omitted performer_id means the logged-in account, and
    another account's name answers 403 performer_mismatch.)"""
    body = {**start_as_serialised(USER, micro_z(datetime.now(UTC))), key: value}
    answer = page_client.post(START, json=body)
    assert answer.status_code == 400
    assert [f["field"] for f in answer.json()["fields"]] == [key]


def test_a_second_start_while_active_answers_the_active_session(
    page_client: TestClient, upstream_settings: Settings
) -> None:
    first = page_client.post(START, json=start_as_browser(USER))
    assert first.status_code == 201
    session_id = first.json()["session_id"]

    again = page_client.post(START, json=start_as_serialised(USER, micro_z(datetime.now(UTC))))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()  # the same session, its own start event
    other = page_client.post(START, json=start_as_serialised(USER, micro_z(datetime.now(UTC)), "carer02"))
    assert (other.status_code, other.json()["error"]) == (403, "performer_mismatch")  # not the account
    assert [e["event"] for e in logged(upstream_settings, session_id)] == ["session.start"]
    assert page_client.post(START, json=start_as_browser("someone_else")).status_code == 201

    page_client.post(END, json=end_as_browser(USER, session_id)).raise_for_status()
    after = page_client.post(START, json=start_as_browser(USER))
    assert after.status_code == 201 and after.json()["session_id"] != session_id
