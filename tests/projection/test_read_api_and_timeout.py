"""The read API's error answers, its OpenAPI entries, and the session-timeout sweep."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from openapi_spec_validator import validate
from projection_checks import as_user
from starlette.testclient import TestClient

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.schemas import format_timestamp, parse_timestamp
from a3cp.storage_layout import session_log_path
from bench.client import END, START, request_body
from eventstore import read_log
from tests.fixtures.accounts import signed_in_client
from web.app import create_app


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/session_manager/sessions/sess_unknown", 404, "session_id"),
        ("/session_manager/sessions/bad.id", 400, "session_id"),
        ("/session_manager/sessions/" + "x" * 65, 400, "session_id"),
        ("/session_manager/users/bad%20user/sessions", 400, "user_id"),
        ("/records/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", 404, "record_id"),  # a well-formed v4 no one wrote
        ("/records/not-a-uuid", 400, "record_id"),
        ("/records/00000000-0000-1000-8000-000000000000", 400, "record_id"),
    ],
)
def test_unknown_is_404_and_malformed_is_400_naming_the_field(
    client: TestClient, url: str, status: int, field: str
) -> None:
    response = client.get(url, headers=as_user(client, "ana"))
    assert response.status_code == status, response.text
    assert [item["field"] for item in response.json()["fields"]] == [field]


def test_unknown_user_has_no_sessions_and_openapi_lists_the_read_routes(client: TestClient) -> None:
    assert client.get("/session_manager/users/nobody/sessions", headers=as_user(client, "nobody")).json() == {
        "user_id": "nobody",
        "sessions": [],
        "next_cursor": None,
        "next": None,
    }
    document = client.get("/openapi.json").json()
    validate(document)
    for path in ("/session_manager/sessions/{session_id}", "/records/{record_id}"):
        assert document["paths"][path]["get"]["parameters"][0]["in"] == "path"


def test_timeout_sweep_records_one_system_end_event(client: TestClient, settings: Settings) -> None:
    ended = client.post(START, json=request_body("ana")).json()["session_id"]
    assert client.post(END, json=request_body("ana", session_id=ended)).status_code == 200
    idle = client.post(START, json=request_body("ana")).json()["session_id"]
    services = client.app.state.services
    last_activity = read_log(session_log_path(settings, "ana", idle)).events[-1]["timestamp"]
    timeout = settings.session_timeout_s
    before_expiry = parse_timestamp(last_activity) + timedelta(seconds=timeout - 1)
    after_expiry = parse_timestamp(last_activity) + timedelta(seconds=timeout + 5)

    assert services.sweeper.sweep(now=before_expiry) == []
    other_process = Services.build(replace(settings))
    assert services.sweeper.sweep(now=after_expiry) == [idle]
    assert other_process.sweeper.sweep(now=after_expiry) == [], "a second sweeper finds it closed"
    other_process.projection.engine.dispose()

    events = read_log(session_log_path(settings, "ana", idle)).events
    assert [(e["event"], e["performer_id"]) for e in events] == [
        ("session.start", "carer01"),
        ("session.end", "system"),
    ]
    expected_end = format_timestamp(parse_timestamp(last_activity) + timedelta(seconds=timeout))
    assert events[-1]["end_time"] == expected_end and events[-1]["end_reason"] == "timeout"
    served = client.get(f"/session_manager/sessions/{idle}", headers=as_user(client, "ana")).json()
    assert (served["status"], served["end_performer_id"], served["end_time"]) == (
        "closed",
        "system",
        expected_end,
    )
    assert len(read_log(session_log_path(settings, "ana", ended)).events) == 2, (
        "ended sessions are left alone"
    )
    late = client.post(END, json=request_body("ana", session_id=idle))
    assert late.status_code == 409


def test_a_read_closes_an_expired_session_before_answering(settings: Settings) -> None:
    expiring = replace(settings, session_timeout_s=0.0)  # expired as soon as the clock moves on
    app = create_app(expiring)
    with signed_in_client(app) as client:
        session_id = client.post(START, json=request_body("ana")).json()["session_id"]
        served = client.get(f"/session_manager/sessions/{session_id}", headers=as_user(client, "ana")).json()
        assert (served["status"], served["end_performer_id"]) == ("closed", "system")
        assert client.post(END, json=request_body("ana", session_id=session_id)).status_code == 409
    app.state.services.projection.engine.dispose()
    events = read_log(session_log_path(settings, "ana", session_id)).events
    assert [(e["event"], e["performer_id"]) for e in events] == [
        ("session.start", "carer01"),
        ("session.end", "system"),
    ]
