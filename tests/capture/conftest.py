"""Fixtures of the capture tests: real-person frames, a started session, and a capture poster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from bench.client import CAPTURE_FRAMES, CAPTURE_PATH, multipart, start_session
from bench.person import person_frames


@pytest.fixture
def frames() -> tuple[bytes, ...]:
    return person_frames(CAPTURE_FRAMES)


@pytest.fixture
def session_id(client: TestClient) -> str:
    return start_session(client)


@pytest.fixture
def post_capture(client: TestClient) -> Callable[..., Any]:
    def post(meta: dict[str, Any] | str, frames: Sequence[bytes]) -> Any:
        return client.post(CAPTURE_PATH, files=multipart(meta, frames))

    return post
