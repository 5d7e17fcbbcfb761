"""Capture request and result models shared by the HTTP multipart and WebSocket transports.

The bounds read the same limit constants the capture policy (a3cp.domain.capture_policy) enforces; the
policy owns the rules between fields (duration, frame cap, pixel count, timestamp order).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from a3cp.config import MAX_FPS, MAX_FRAME_SIDE, MAX_FRAMES
from a3cp.schemas.a3cp_message import Annotation, RawFeaturesRef
from a3cp.schemas.base import Envelope, PerformerId, RecordId, SafeId, Timestamp

CaptureId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        to_lower=True,
    ),
    Field(description="Upstream's capture correlator (a UUID); defaults to record_id"),
]


class CaptureSpec(Envelope):
    """What a client declares about one bounded capture before its frames.

    `record_id` identifies the capture (its feature file and event). `frame_timestamps_ms` are epoch
    milliseconds, one per frame, non-decreasing; without them frame i is at timestamp_start + i / fps.
    """

    session_id: SafeId
    performer_id: PerformerId
    capture_id: CaptureId | None = None
    timestamp_start: Timestamp
    timestamp_end: Timestamp | None = None
    fps: Annotated[float, Field(gt=0, le=MAX_FPS, allow_inf_nan=False)]
    width: Annotated[int, Field(ge=1, le=MAX_FRAME_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_FRAME_SIDE)]
    frame_count: Annotated[int, Field(ge=1, le=MAX_FRAMES)] | None = None
    frame_timestamps_ms: Annotated[list[int], Field(max_length=MAX_FRAMES)] | None = None
    annotation: Annotation | None = None


class CaptureMeta(CaptureSpec):
    """The `meta` part of `POST /camera_feed_worker/captures`: the whole capture is declared up front."""

    timestamp_end: Timestamp
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
