"""Every error body carries `detail` (the message), which upstream A3CP's page shows as `err.detail`,
beside our own `error`, `message` and `fields`: over every code of the error table, and over
representative failures of every kind of route (validation, JSON, size, media type, 404, 409, 500)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from a3cp.config import MAX_JSON_BODY_BYTES, Settings
from web.app import create_app
from web.error_table import ERRORS
from web.errors import error_response

from .conftest import logged_in_page
from .shapes import end_as_browser, micro_z, start_as_browser, start_as_serialised

START = "/session_manager/sessions.start"
END = "/session_manager/sessions.end"


def assert_error_body(body: dict[str, object]) -> None:
    assert {"error", "message", "fields", "detail"} <= set(body), body
    assert isinstance(body["detail"], str) and body["detail"] == body["message"] != "", body


@pytest.mark.parametrize("code", sorted(code for code, kind in ERRORS.items() if kind.http_status))
def test_every_http_code_of_the_error_table_answers_with_detail(code: str) -> None:
    kind = ERRORS[code]
    assert kind.http_status is not None
    response = error_response(kind.http_status, code, kind.words)
    assert_error_body(json.loads(bytes(response.body)))


@pytest.fixture
def lenient_client(settings: Settings) -> Iterator[TestClient]:
    """The page's client (logged in by cookie) that gets the 500 answer instead of the exception."""
    with logged_in_page(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_route_failures_all_carry_detail(lenient_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client = lenient_client
    session_id = client.post(START, json=start_as_browser("carer_user")).json()["session_id"]
    client.post(END, json=end_as_browser("carer_user", session_id)).raise_for_status()
    failures = {
        "validation_error": client.post(START, json={"user_id": "x"}),
        "invalid_json": client.post(START, content=b"{", headers={"content-type": "application/json"}),
        "payload_too_large": client.post(
            START, content=b" " * (MAX_JSON_BODY_BYTES + 1), headers={"content-type": "application/json"}
        ),
        "unsupported_media_type": client.post("/camera_feed_worker/captures", json={}),
        "session_not_found": client.post(END, json=end_as_browser("carer_user", "sess_unknown")),
        "session_closed": client.post(END, json=end_as_browser("carer_user", session_id)),
        "session_user_mismatch": client.post(END, json=end_as_browser("other_user", session_id)),
        "http_error": client.get("/no/such/page"),
    }

    def failing_start(request: object) -> None:
        raise RuntimeError("an unexpected failure")

    monkeypatch.setattr(client.app.state.services.sessions, "start", failing_start)  # type: ignore[attr-defined]
    failures["internal_error"] = client.post(START, json=start_as_serialised("u", micro_z(datetime.now(UTC))))
    for code, response in failures.items():
        assert response.status_code >= 400, (code, response.status_code)
        body = response.json()
        assert body["error"] == code, (code, body)
        assert_error_body(body)
