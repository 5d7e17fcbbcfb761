"""Requests shaped as upstream A3CP's browser client and tests build them (gesturelabs/a3cp b13f383),
written here as our own fixtures: the same keys, value forms and message order, none of upstream's code.

- `start_as_serialised`/`end_as_serialised`: what upstream's pydantic start/end models emit when its
  tests serialise them: every unset optional envelope field as `null`, timestamps with microseconds
  (`...123456Z`) or `+00:00`.
- `start_as_browser`/`end_as_browser`: what its browser client POSTs (`toISOString()` times, no nulls).
- `BrowserCapture`: its WebSocket capture: open (not waiting for an answer), then per frame a
  frame_meta with a fresh record_id followed by the JPEG bytes every 150 ms, then close; the client then
  closes the socket at once without waiting for the server.
With accounts the recorded performer_id is the logged-in account's, so every builder here names the
page's account (`PAGE_ACCOUNT`, tests/upstream/conftest.py) as performer unless told otherwise.
docs/upstream.md lists the upstream files these shapes were read from.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from a3cp.schemas import format_timestamp

UPSTREAM_SCHEMA_VERSION = "1.0.1"
BROWSER_WS_PATH = "/api/camera_feed_worker/capture"  # what upstream's browser client opens
LEGACY_WS_PATH = "/api/camera_feed_worker/ws"  # what upstream's tests open
FRAME_INTERVAL = timedelta(milliseconds=150)  # the client's setInterval


def micro_z(moment: datetime) -> str:
    """`2026-03-15T12:34:56.123456Z`: upstream's tests (`isoformat()` with +00:00 turned into Z)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def micro_offset(moment: datetime) -> str:
    """`2026-03-15T12:34:56.123456+00:00`: `datetime.now(timezone.utc).isoformat()`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def browser_iso(moment: datetime) -> str:
    """`2026-03-15T12:34:56.789Z`: JavaScript's `new Date().toISOString()`."""
    return format_timestamp(moment)


PAGE_ACCOUNT = "demo_user"  # the account page_client is logged in as (conftest.PAGE_ACCOUNT)


def start_as_serialised(user_id: str, timestamp: str, performer_id: str = PAGE_ACCOUNT) -> dict[str, Any]:
    """A start as upstream's SessionManagerStartInput(...).model_dump_json() emits it, key order kept."""
    return {
        "schema_version": UPSTREAM_SCHEMA_VERSION,
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "session_id": None,
        "timestamp": timestamp,
        "modality": None,
        "source": None,
        "performer_id": performer_id,
        "is_training_data": False,
        "session_notes": None,
        "training_intent_label": None,
    }


def end_as_serialised(
    user_id: str, session_id: str, timestamp: str, end_time: str, performer_id: str = PAGE_ACCOUNT
) -> dict[str, Any]:
    """An end as upstream's SessionManagerEndInput(...).model_dump_json() emits it."""
    return {
        "schema_version": UPSTREAM_SCHEMA_VERSION,
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "session_id": session_id,
        "timestamp": timestamp,
        "modality": None,
        "source": None,
        "performer_id": performer_id,
        "end_time": end_time,
    }


def start_as_browser(user_id: str, performer_id: str = PAGE_ACCOUNT) -> dict[str, Any]:
    """The start upstream's page POSTs (upstream's performer_id falls back to the user id; ours is the
    logged-in account)."""
    return {
        "schema_version": UPSTREAM_SCHEMA_VERSION,
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "timestamp": browser_iso(datetime.now(UTC)),
        "performer_id": performer_id,
    }


def end_as_browser(user_id: str, session_id: str, performer_id: str = PAGE_ACCOUNT) -> dict[str, Any]:
    """The end upstream's page POSTs: the session from start, a timestamp and an end_time."""
    now = browser_iso(datetime.now(UTC))
    return {
        "schema_version": UPSTREAM_SCHEMA_VERSION,
        "record_id": str(uuid.uuid4()),
        "user_id": user_id,
        "performer_id": performer_id,
        "session_id": session_id,
        "timestamp": now,
        "end_time": now,
    }


@dataclasses.dataclass
class BrowserCapture:
    """One capture's messages as upstream's page sends them (`modality` image, `source` ui, no
    performer_id, 640x480 JPEG frames, fps_target 15 while sending one frame per 150 ms).
    `stamp` renders every time: the browser's ms-Z by default, or an upstream test's microsecond form."""

    user_id: str
    session_id: str
    start: datetime
    stamp: Any = browser_iso
    capture_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    width: int = 640
    height: int = 480

    def _envelope(self, event: str, moment: datetime) -> dict[str, Any]:
        return {
            "schema_version": UPSTREAM_SCHEMA_VERSION,
            "record_id": str(uuid.uuid4()),
            "user_id": self.user_id,
            "session_id": self.session_id,
            "timestamp": self.stamp(moment),
            "modality": "image",
            "source": "ui",
            "event": event,
            "capture_id": self.capture_id,
        }

    def frame_time(self, seq: int) -> datetime:
        return self.start + (seq - 1) * FRAME_INTERVAL

    def open(self, **overrides: Any) -> str:
        message = {
            **self._envelope("capture.open", self.start),
            "timestamp_start": self.stamp(self.start),
            "fps_target": 15,
            "width": self.width,
            "height": self.height,
            "encoding": "jpeg",
            **overrides,
        }
        return json.dumps(message)

    def meta(self, seq: int, byte_length: int) -> str:
        moment = self.frame_time(seq)
        message = {
            **self._envelope("capture.frame_meta", moment),
            "seq": seq,
            "timestamp_frame": self.stamp(moment),
            "byte_length": byte_length,
        }
        return json.dumps(message)

    def close(self, after_frames: int) -> str:
        moment = self.frame_time(after_frames) + FRAME_INTERVAL
        return json.dumps({**self._envelope("capture.close", moment), "timestamp_end": self.stamp(moment)})

    def end_time(self, after_frames: int) -> datetime:
        return self.frame_time(after_frames) + FRAME_INTERVAL
