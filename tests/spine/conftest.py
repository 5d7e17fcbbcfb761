"""Fixtures of the spine tests: a session started over HTTP."""

from __future__ import annotations

import pytest
from invariants import start_body
from starlette.testclient import TestClient


@pytest.fixture
def started(client: TestClient) -> dict:
    """The JSON answer of a successful sessions.start for user elias01."""
    response = client.post("/session_manager/sessions.start", json=start_body())
    assert response.status_code == 201, response.text
    return response.json()
