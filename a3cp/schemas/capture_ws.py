"""Messages of the WebSocket capture protocol (`WS /camera_feed_worker/capture`), upstream A3CP shapes.

Client -> server, one capture per connection: `capture.open`, then per frame `capture.frame_meta`
immediately followed by one binary message of exactly `byte_length` bytes, then `capture.close`.
Every JSON message carries the envelope (schema_version, a fresh record_id, user_id, session_id,
timestamp); the record_id of `capture.open` is the capture's identity, `capture_id` correlates.
Server -> client: `capture.abort` (a stable `error_code`) or, beyond upstream, `capture.result`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from a3cp.schemas.a3cp_message import Annotation
from a3cp.schemas.base import (
    Modality,
    PerformerId,
    RecordId,
    SafeId,
    SchemaVersion,
    StrictModel,
    Timestamp,
)

WS_SOURCE = "camera_feed_worker"


class CaptureMessageBase(StrictModel):
    """The envelope and correlation id every client message carries."""

    schema_version: SchemaVersion
    record_id: RecordId
    user_id: SafeId
    session_id: SafeId
    timestamp: Timestamp
    modality: Modality | None = None
    source: str | None = Field(default=None, max_length=64)
    performer_id: PerformerId | None = None
    capture_id: RecordId


class CaptureOpen(CaptureMessageBase):
    """Starts the capture; its record_id names the feature file and the feature event."""

    event: Literal["capture.open"]
    timestamp_start: Timestamp
    fps_target: Annotated[int, Field(ge=1)]
    width: Annotated[int, Field(ge=1)]
    height: Annotated[int, Field(ge=1)]
    encoding: Literal["jpeg"]
    annotation: Annotation | None = None


class CaptureFrameMeta(CaptureMessageBase):
    """Describes the binary message that must follow it."""

    event: Literal["capture.frame_meta"]
    seq: Annotated[int, Field(ge=1)]
    timestamp_frame: Timestamp
    byte_length: Annotated[int, Field(ge=1)]


class CaptureClose(CaptureMessageBase):
    """Ends the capture; the server extracts the rest and answers capture.result or capture.abort."""

    event: Literal["capture.close"]
    timestamp_end: Timestamp


CaptureClientMessage = Annotated[CaptureOpen | CaptureFrameMeta | CaptureClose, Field(discriminator="event")]
CAPTURE_CLIENT_MESSAGE: TypeAdapter[CaptureOpen | CaptureFrameMeta | CaptureClose] = TypeAdapter(
    CaptureClientMessage
)


class CaptureServerMessage(BaseModel):
    """Envelope of what the server sends: the capture's record_id (as upstream's abort) and server time."""

    model_config = ConfigDict(extra="allow")

    schema_version: SchemaVersion
    record_id: RecordId
    user_id: SafeId
    session_id: SafeId
    timestamp: Timestamp
    modality: Modality = "image"
    source: str = WS_SOURCE
    capture_id: RecordId


class CaptureAbort(CaptureServerMessage):
    """The capture was refused or stopped; nothing was recorded. `message` is a sentence for people."""

    event: Literal["capture.abort"] = "capture.abort"
    error_code: str
    message: str | None = None


class CaptureResult(CaptureServerMessage):
    """The capture was recorded: the HTTP capture endpoint's 201 body plus the envelope and event."""

    event: Literal["capture.result"] = "capture.result"

    @classmethod
    def wrap(cls, envelope: dict[str, Any], body: dict[str, Any]) -> CaptureResult:
        """The result message; the HTTP body's fields win over the envelope's."""
        return cls.model_validate({**envelope, **body})
