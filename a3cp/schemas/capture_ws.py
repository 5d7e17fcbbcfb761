"""Messages of the WebSocket capture protocol (`WS /camera_feed_worker/capture`), upstream A3CP shapes.

Client -> server, one capture per connection: `capture.open`, then per frame `capture.frame_meta`
immediately followed by one binary message of exactly `byte_length` bytes, then `capture.close`.
Every JSON message carries the envelope (schema_version, a fresh record_id, user_id, session_id,
timestamp); the record_id of `capture.open` is the capture's identity, `capture_id` correlates.
Server -> client: `capture.abort` (a stable `error_code`) or, beyond upstream, `capture.result`;
`capture.preview` (the live skeleton) only when capture.open asked for it with `"preview": true`;
and for a capture opened with `"purpose": "recognize"`, `capture.recognized` after the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from a3cp.config import SCHEMA_VERSION
from a3cp.schemas.a3cp_message import Annotation
from a3cp.schemas.base import (
    InputTimestamp,
    Modality,
    PerformerId,
    RecordId,
    SafeId,
    SchemaVersion,
    StrictModel,
    Timestamp,
)
from a3cp.schemas.capture import CaptureId
from a3cp.schemas.errors import FieldError

WS_SOURCE = "camera_feed_worker"


class CaptureMessageBase(StrictModel):
    """The envelope and correlation id every client message carries."""

    schema_version: SchemaVersion
    record_id: RecordId
    user_id: SafeId
    session_id: SafeId
    timestamp: InputTimestamp
    modality: Modality | None = None
    source: str | None = Field(default=None, max_length=64)
    performer_id: PerformerId | None = None
    capture_id: CaptureId


class CaptureOpen(CaptureMessageBase):
    """Starts the capture; its record_id names the feature file and the feature event."""

    event: Literal["capture.open"]
    timestamp_start: InputTimestamp
    fps_target: Annotated[int, Field(ge=1)]
    width: Annotated[int, Field(ge=1)]
    height: Annotated[int, Field(ge=1)]
    encoding: Literal["jpeg"]
    annotation: Annotation | None = None
    # Beyond upstream: ask for capture.preview messages; off, the server sends exactly upstream's messages.
    preview: bool = False
    # "recognize": after capture.result the server recognizes the capture and answers capture.recognized
    purpose: Literal["record", "recognize"] = "record"


class CaptureFrameMeta(CaptureMessageBase):
    """Describes the binary message that must follow it."""

    event: Literal["capture.frame_meta"]
    seq: Annotated[int, Field(ge=1)]
    timestamp_frame: InputTimestamp
    byte_length: Annotated[int, Field(ge=1)]


class CaptureClose(CaptureMessageBase):
    """Ends the capture; the server extracts the rest and answers capture.result or capture.abort."""

    event: Literal["capture.close"]
    timestamp_end: InputTimestamp


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
    capture_id: CaptureId


class CaptureAbort(CaptureServerMessage):
    """The capture was refused or stopped; nothing was recorded. `message` is a sentence for people,
    `fields` the fields at fault (as in an HTTP error body). A message refused before any valid
    capture.open carries whichever of its envelope ids were valid, the others null."""

    record_id: RecordId | None = None  # type: ignore[assignment]
    user_id: SafeId | None = None  # type: ignore[assignment]
    session_id: SafeId | None = None  # type: ignore[assignment]
    capture_id: CaptureId | None = None  # type: ignore[assignment]
    event: Literal["capture.abort"] = "capture.abort"
    error_code: str
    message: str | None = None
    fields: list[FieldError] = []

    @classmethod
    def refusing(cls, received: Mapping[str, Any], now: str, **body: Any) -> CaptureAbort:
        """The abort of a message refused before any capture.open was accepted: it names each id the
        message carried validly and leaves the others null (upstream's abort names its capture)."""
        ids = {
            name: _valid_or_none(adapter, received.get(name))
            for name, adapter in (
                ("record_id", _RECORD_ID),
                ("user_id", _SAFE_ID),
                ("session_id", _SAFE_ID),
                ("capture_id", _CAPTURE_ID),
            )
        }
        return cls.model_validate({"schema_version": SCHEMA_VERSION, "timestamp": now, **ids, **body})


def _valid_or_none(adapter: TypeAdapter[str], value: object) -> str | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


_RECORD_ID: TypeAdapter[str] = TypeAdapter(RecordId)
_SAFE_ID: TypeAdapter[str] = TypeAdapter(SafeId)
_CAPTURE_ID: TypeAdapter[str] = TypeAdapter(CaptureId)


class CaptureResult(CaptureServerMessage):
    """The capture was recorded: the HTTP capture endpoint's 201 body plus the envelope and event."""

    event: Literal["capture.result"] = "capture.result"

    @classmethod
    def wrap(cls, envelope: dict[str, Any], body: dict[str, Any]) -> CaptureResult:
        """The result message; the HTTP body's fields win over the envelope's."""
        return cls.model_validate({**envelope, **body})


PreviewPoints = list[tuple[float, float]] | None  # (x, y) normalised to the image; None: not found


class CapturePreview(CaptureServerMessage):
    """The live skeleton (a3cp.landmarks.preview): the newest tracked frame's 2-D pose and hand points,
    at most ~5 a second, sent only to a capture.open with `preview: true`. `frame` is the frame's
    0-based index in the capture."""

    event: Literal["capture.preview"] = "capture.preview"
    frame: int
    pose: PreviewPoints
    left_hand: PreviewPoints
    right_hand: PreviewPoints


class CaptureRecognized(CaptureServerMessage):
    """After capture.result of a `purpose: "recognize"` capture: the person's recognizer's answer, or,
    with `error_code` and `message` set (label null, no scores), why no recognition could be made."""

    event: Literal["capture.recognized"] = "capture.recognized"
    label: str | None  # the decision; None: not sure, or not recognized (error_code set)
    scores: list[dict[str, Any]]  # [{"label", "score"}], best first
    model_hash: str | None = None  # None: not recognized
    recognized_record_id: RecordId | None = None  # the `gesture.recognized` event's record_id
    error_code: str | None = None  # why it could not be recognized: an error code of the table
    message: str | None = None
