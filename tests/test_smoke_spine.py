"""A start/end over HTTP leaves exactly two ordered events."""

import uuid

from a3cp.config import session_log_path
from eventstore import read_log


def test_start_then_end_records_two_events(client, settings):
    start = {
        "schema_version": "1.0.1",
        "record_id": str(uuid.uuid4()),
        "user_id": "elias01",
        "timestamp": "2026-11-24T10:00:00.123Z",
        "performer_id": "carer01",
    }
    response = client.post("/session_manager/sessions.start", json=start)
    assert response.status_code == 201
    session_id = response.json()["session_id"]
    end = dict(start, record_id=str(uuid.uuid4()), session_id=session_id)
    assert client.post("/session_manager/sessions.end", json=end).status_code == 200
    events = read_log(session_log_path(settings, "elias01", session_id)).events
    assert [e["event"] for e in events] == ["session.start", "session.end"]
