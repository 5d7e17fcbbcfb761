"""Helpers for capture tests: start a session, build a capture's meta and multipart parts, list what
was written (feature files and feature events) so every error test can prove nothing was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.storage_layout import iter_session_logs
from eventstore import read_log
from tests.fixtures.person import person_frames

CAPTURE_PATH = "/camera_feed_worker/captures"
FRAMES = 30  # 3 s at 10 fps: short, but long enough for the tracker to settle


def envelope(user_id: str = "elias01", **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.0.1",
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "timestamp": "2026-11-24T10:00:00.123Z",
        "performer_id": "carer01",
        **fields,
    }


def start_session(client: TestClient, user_id: str = "elias01") -> str:
    response = client.post("/session_manager/sessions.start", json=envelope(user_id))
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def capture_meta(session_id: str, frames: int = FRAMES, user_id: str = "elias01", **overrides: Any) -> dict:
    meta = envelope(
        user_id,
        session_id=session_id,
        timestamp_start="2026-11-24T10:00:01.000Z",
        timestamp_end="2026-11-24T10:00:04.000Z",
        fps=10,
        width=320,
        height=320,
        frame_count=frames,
    )
    meta.update(overrides)
    return meta


def multipart(meta: dict[str, Any] | str, frames: Sequence[bytes]) -> list[tuple[str, tuple]]:
    body = meta if isinstance(meta, str) else json.dumps(meta)
    parts: list[tuple[str, tuple]] = [("meta", (None, body, "application/json"))]
    parts += [("frame", (f"{i}.jpg", frame, "image/jpeg")) for i, frame in enumerate(frames)]
    return parts


def feature_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.data_root.rglob("*") if p.is_file() and "features" in p.parts)


def feature_events(settings: Settings) -> list[dict[str, Any]]:
    return [
        e
        for path in iter_session_logs(settings)
        for e in read_log(path).events
        if e["event"] == "capture.features"
    ]


@pytest.fixture
def frames() -> tuple[bytes, ...]:
    return person_frames(FRAMES)


@pytest.fixture
def session_id(client: TestClient) -> str:
    return start_session(client)


@pytest.fixture
def post_capture(client: TestClient) -> Callable[..., Any]:
    def post(meta: dict[str, Any] | str, frames: Sequence[bytes]) -> Any:
        return client.post(CAPTURE_PATH, files=multipart(meta, frames))

    return post
