"""What a client sends, for the tests and the benchmarks alike: session manager request bodies, a
capture's meta and multipart parts, a consent grant, and the start/end calls that expect success.

One place builds these so a change of the request shape is made once. The calls take any httpx
client (Starlette's TestClient is one; a real server is reached with `httpx.Client(base_url=...)`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from a3cp.config import SCHEMA_VERSION

START = "/session_manager/sessions.start"
END = "/session_manager/sessions.end"
CAPTURE_PATH = "/camera_feed_worker/captures"
USER = "elias01"
PERFORMER = "carer01"
TIMESTAMP = "2026-11-24T10:00:00.123Z"
CAPTURE_FRAMES = 30  # 3 s at 10 fps: short, but long enough for the tracker to settle
CONSENT_TEXT = "I agree that my gestures are recorded as landmark features."

MultipartParts = list[tuple[str, tuple[Any, ...]]]


def request_body(
    user_id: str = USER, performer_id: str = PERFORMER, timestamp: str = TIMESTAMP, **fields: Any
) -> dict[str, Any]:
    """A valid request envelope with a fresh record_id: a sessions.start body as it is; `fields` adds
    (or overrides) the rest, e.g. session_id for a sessions.end."""
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "timestamp": timestamp,
        "performer_id": performer_id,
        **fields,
    }


def consent_body(*scopes: str, **fields: Any) -> dict[str, Any]:
    """A valid `POST /users/{user_id}/consent` body (docs/privacy.md): a parent's written consent to
    CONSENT_TEXT for `scopes`; `fields` overrides the rest."""
    return {
        "scopes": list(scopes),
        "grantor": "Maria Example",
        "relationship": "parent",
        "method": "written",
        "text_id": "consent-gestures",
        "text_version": "2026-11",
        "text_sha256": hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
        "language": "en",
        **fields,
    }


def end_body(
    session_id: str, user_id: str = USER, performer_id: str = PERFORMER, **fields: Any
) -> dict[str, Any]:
    """A valid sessions.end request body with a fresh record_id."""
    return request_body(user_id, performer_id, session_id=session_id, **fields)


def start_session(http: httpx.Client, user_id: str = USER, **fields: Any) -> str:
    """Start a session (expecting 201); its session_id."""
    response = http.post(START, json=request_body(user_id, **fields))
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def end_session(http: httpx.Client, session_id: str, user_id: str = USER, **fields: Any) -> dict[str, Any]:
    """End a session (expecting 200); the JSON answer."""
    response = http.post(END, json=end_body(session_id, user_id, **fields))
    assert response.status_code == 200, response.text
    return dict(response.json())


def capture_meta(
    session_id: str, frames: int = CAPTURE_FRAMES, user_id: str = USER, **overrides: Any
) -> dict[str, Any]:
    """The meta part of a 3 s, 10 fps, 320x320 HTTP capture of `frames` frames."""
    return (
        request_body(
            user_id,
            session_id=session_id,
            timestamp_start="2026-11-24T10:00:01.000Z",
            timestamp_end="2026-11-24T10:00:04.000Z",
            fps=10,
            width=320,
            height=320,
            frame_count=frames,
        )
        | overrides
    )


def multipart(meta: dict[str, Any] | str, frames: Sequence[bytes]) -> MultipartParts:
    """httpx `files=` parts of a capture: the meta (a dict, or raw text as sent), then one part a frame."""
    body = meta if isinstance(meta, str) else json.dumps(meta)
    parts: MultipartParts = [("meta", (None, body, "application/json"))]
    parts += [("frame", (f"{i}.jpg", frame, "image/jpeg")) for i, frame in enumerate(frames)]
    return parts
