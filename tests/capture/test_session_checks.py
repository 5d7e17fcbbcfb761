"""`sessions.validate` (used by the capture workers) and upstream's `sessions.end` with `end_time`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from a3cp.schemas import format_timestamp
from a3cp.storage_layout import session_log_path
from bench.client import request_body, start_session
from eventstore import read_log

pytestmark = pytest.mark.fast

VALIDATE = "/session_manager/sessions.validate"


def _status(client, user_id, session_id) -> str:
    response = client.post(VALIDATE, json={"user_id": user_id, "session_id": session_id})
    assert response.status_code == 200, response.text
    return response.json()["status"]


def test_validate_reports_each_status(client):
    session_id = start_session(client)
    assert _status(client, "elias01", session_id) == "active"
    assert _status(client, "someone_else", session_id) == "invalid"  # another user's session
    assert _status(client, "elias01", "sess_unknown") == "invalid"
    assert _status(client, "elias01", "../etc/passwd") == "invalid"  # malformed
    assert _status(client, "elias01", "") == "invalid"
    assert _status(client, "elias01", None) == "invalid"
    client.post("/session_manager/sessions.end", json=request_body(session_id=session_id))
    assert _status(client, "elias01", session_id) == "closed"


def test_upstream_style_end_records_its_end_time(client, settings):
    """Upstream's demo client sends `end_time` (and `timestamp`) with every end."""
    session_id = start_session(client)
    end_time = format_timestamp(datetime.now(UTC))
    response = client.post(
        "/session_manager/sessions.end", json=request_body(session_id=session_id, end_time=end_time)
    )
    assert response.status_code == 200, response.text
    assert response.json()["end_time"] == end_time
    end = read_log(session_log_path(settings, "elias01", session_id)).events[-1]
    assert end["event"] == "session.end" and end["end_time"] == end_time
