"""Speaking the WebSocket capture protocol from Python against the real app (Starlette TestClient).

Frames are real JPEGs of scikit-image's astronaut.png (NASA portrait, public domain) with small
shifts, so the real pipeline (MediaPipe Holistic) runs on a real person. Timeouts are shortened
through Settings so the timeout tests take well under a second each.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import format_timestamp
from a3cp.storage_layout import session_features_dir, session_log_path
from eventstore import read_log
from tests.fixtures.person import portrait_on_canvas
from web.app import create_app

USER = "ws_user"
FRAME_SIZE = (320, 240)


def iso(moment: datetime) -> str:
    return format_timestamp(moment)


@pytest.fixture(scope="session")
def jpeg_frames() -> list[bytes]:
    """Twelve 320x240 JPEGs of the astronaut, shifted a few pixels each."""
    width, height = FRAME_SIZE
    frames = []
    for index in range(12):
        canvas = portrait_on_canvas(width, height, int(4 * np.sin(index)))
        ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        frames.append(encoded.tobytes())
    return frames


@pytest.fixture
def ws_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, ws_meta_to_bytes_timeout_s=0.4, ws_idle_timeout_s=0.6, ws_session_recheck_s=0.0
    )


@pytest.fixture
def ws_client(ws_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(ws_settings)) as client:
        yield client


def start_session(client: TestClient, user_id: str = USER) -> str:
    envelope = {
        "schema_version": "1.0.1",
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "timestamp": iso(datetime.now(UTC)),
        "performer_id": user_id,
    }
    response = client.post("/session_manager/sessions.start", json=envelope)
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def end_session(client: TestClient, session_id: str, user_id: str = USER) -> None:
    envelope = {
        "schema_version": "1.0.1",
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "session_id": session_id,
        "timestamp": iso(datetime.now(UTC)),
        "performer_id": user_id,
    }
    response = client.post("/session_manager/sessions.end", json=envelope)
    assert response.status_code == 200, response.text


@dataclasses.dataclass
class Capture:
    """Builds one capture's messages (upstream shapes: a fresh record_id per message)."""

    session_id: str
    user_id: str = USER
    record_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    capture_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    start: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    fps: int = 5

    def envelope(self, event: str, record_id: str | None = None) -> dict[str, Any]:
        return {
            "schema_version": "1.0.1",
            "record_id": record_id or str(uuid.uuid4()),
            "user_id": self.user_id,
            "session_id": self.session_id,
            "timestamp": iso(datetime.now(UTC)),
            "modality": "image",
            "source": "browser",
            "event": event,
            "capture_id": self.capture_id,
        }

    def open(self, **overrides: Any) -> str:
        message = {
            **self.envelope("capture.open", self.record_id),
            "timestamp_start": iso(self.start),
            "fps_target": self.fps,
            "width": FRAME_SIZE[0],
            "height": FRAME_SIZE[1],
            "encoding": "jpeg",
            **overrides,
        }
        return json.dumps(message)

    def frame_at(self, seq: int) -> datetime:
        return self.start + timedelta(seconds=(seq - 1) / self.fps)

    def meta(self, seq: int, byte_length: int, **overrides: Any) -> str:
        message = {
            **self.envelope("capture.frame_meta"),
            "seq": seq,
            "timestamp_frame": iso(self.frame_at(seq)),
            "byte_length": byte_length,
            **overrides,
        }
        return json.dumps(message)

    def close(self, seconds: float = 3.0, **overrides: Any) -> str:
        message = {
            **self.envelope("capture.close"),
            "timestamp_end": iso(self.start + timedelta(seconds=seconds)),
            **overrides,
        }
        return json.dumps(message)


def events_of(settings: Settings, session_id: str, user_id: str = USER) -> list[dict[str, Any]]:
    return read_log(session_log_path(settings, user_id, session_id)).events


def feature_files(settings: Settings, session_id: str, user_id: str = USER) -> list[Path]:
    directory = session_features_dir(settings, user_id, session_id)
    return sorted(directory.iterdir()) if directory.is_dir() else []
