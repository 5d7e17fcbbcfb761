"""Response models of the read API (served from the projection): sessions with captures, records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from a3cp.schemas.base import RecordId, SafeId, Timestamp
from a3cp.schemas.capture import CaptureId
from a3cp.schemas.session_manager import Session


class CaptureSummary(BaseModel):
    """One feature event of a session: what a carer needs to see that the gesture was recorded."""

    record_id: RecordId
    capture_id: CaptureId | None = None
    timestamp: Timestamp
    T: int | None = None
    D: int | None = None
    hash: str | None = None
    uri: str | None = None
    encoding: str | None = None
    quality: dict[str, Any] | None = None
    annotation_intent: str | None = None
    label: str | None = Field(default=None, description="The current label: relabelled, else the annotation")
    status: Literal["active", "discarded", "erased"] = "active"


class SessionDetail(Session):
    """A projected session, its last activity and its captures in log order."""

    start_record_id: RecordId
    end_record_id: RecordId | None = None
    last_activity: Timestamp
    captures: list[CaptureSummary] = Field(default_factory=list)


class UserSessions(BaseModel):
    """GET /session_manager/users/{user_id}/sessions: a user's sessions, oldest first."""

    user_id: SafeId
    sessions: list[SessionDetail]


class FeaturesIndex(BaseModel):
    """The raw_features_ref fields indexed for a feature event."""

    uri: str
    hash: str | None = None
    shape: list[int | None]
    dims: int | None = None
    encoding: str | None = None
    dtype: str | None = None
    format: str | None = None


class RecordLocation(BaseModel):
    """GET /records/{record_id}: where a record lives in which log, and its feature file if any."""

    record_id: RecordId
    user_id: SafeId
    session_id: SafeId
    source: str
    event: str
    performer_id: str
    timestamp: Timestamp
    log_path: str = Field(description="Relative to LOG_ROOT")
    log_offset: int = Field(description="Byte offset of the event's line in its log")
    log_position: int = Field(description="Index of the event among the log's valid events")
    capture_id: CaptureId | None = None
    raw_features_ref: FeaturesIndex | None = None
    quality: dict[str, Any] | None = None
    annotation_intent: str | None = None


class RecordCheckResult(BaseModel):
    """GET /records/{record_id}/verify: the replay check of one feature event against its file."""

    record_id: RecordId
    ok: bool
    problems: list[str] = Field(default_factory=list)
