"""Fixtures of the spine tests: a session started over HTTP."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bench.client import START, request_body


@pytest.fixture
def started(client: TestClient) -> dict:
    """The JSON answer of a successful sessions.start for user elias01."""
    response = client.post(START, json=request_body())
    assert response.status_code == 201, response.text
    return response.json()
