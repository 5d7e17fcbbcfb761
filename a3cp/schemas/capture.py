"""Capture request and result models shared by the HTTP multipart and WebSocket transports.

The bounds read the same limit constants the capture policy (a3cp.domain.capture_policy) enforces; the
policy owns the rules between fields (duration, frame cap, pixel count, timestamp order).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from a3cp.config import MAX_FPS, MAX_FRAME_SIDE, MAX_FRAMES
from a3cp.schemas.a3cp_message import Annotation, RawFeaturesRef
from a3cp.schemas.base import Envelope, InputTimestamp, PerformerId, RecordId, SafeId, Timestamp

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID_RE = re.compile(UUID_PATTERN.strip("^$"), re.ASCII)


def _check_uuid(value: str) -> str:
    if _UUID_RE.fullmatch(value) is None:
        raise ValueError("must be a UUID in 8-4-4-4-12 hex form")
    return value.lower()


CaptureId = Annotated[
    str,
    AfterValidator(_check_uuid),
    # Any UUID version, as upstream's own router needs at close; `cap-<uuid>`-style strings are refused
    # (upstream's schema takes any string but its router cannot finish such a capture: docs/upstream.md).
    Field(
        description="Upstream's capture correlator: any UUID (recorded lowercase); defaults to record_id",
        json_schema_extra={"format": "uuid", "pattern": UUID_PATTERN},
    ),
]


class CaptureSpec(Envelope):
    """What a client declares about one bounded capture before its frames.

    `record_id` identifies the capture (its feature file and event). `frame_timestamps_ms` are epoch
    milliseconds, one per frame, non-decreasing; without them frame i is at timestamp_start + i / fps.
    """

    session_id: SafeId
    performer_id: PerformerId
    capture_id: CaptureId | None = None
    timestamp_start: InputTimestamp
    timestamp_end: InputTimestamp | None = None
    fps: Annotated[float, Field(gt=0, le=MAX_FPS, allow_inf_nan=False)]
    width: Annotated[int, Field(ge=1, le=MAX_FRAME_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_FRAME_SIDE)]
    frame_count: Annotated[int, Field(ge=1, le=MAX_FRAMES)] | None = None
    frame_timestamps_ms: Annotated[list[int], Field(max_length=MAX_FRAMES)] | None = None
    annotation: Annotation | None = None


class CaptureMeta(CaptureSpec):
    """The `meta` part of `POST /camera_feed_worker/captures`: the whole capture is declared up front."""

    timestamp_end: InputTimestamp
    frame_count: Annotated[int, Field(ge=1, le=MAX_FRAMES)]


class CaptureFinish(BaseModel):
    """The `finish` part of a forwarded capture (split mode): when it ended, else the declared end."""

    model_config = ConfigDict(extra="forbid")

    timestamp_end: Timestamp | None = None


class CaptureCreated(BaseModel):
    """The answer to a recorded capture (HTTP 201 body; the WebSocket `capture.result` carries it too)."""

    model_config = ConfigDict(extra="forbid")

    record_id: RecordId
    capture_id: CaptureId
    session_id: SafeId
    user_id: SafeId
    T: int
    D: int
    raw_features_ref: RawFeaturesRef
    quality: dict[str, float | bool]
