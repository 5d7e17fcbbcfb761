"""Response models of the read API (served from the projection): sessions with captures, records."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError

from a3cp.schemas.base import RecordId, SafeId, StrictModel, Timestamp
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


# Pagination of the session list (docs/projection.md): `limit` up to MAX_PAGE_LIMIT, an opaque cursor
# naming the last session of the previous page by its place in the order (start_time, session_id).
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200
PageKey = tuple[str, str]
_PAGE_KEY = TypeAdapter(tuple[Timestamp, SafeId])


def encode_cursor(key: PageKey) -> str:
    """The opaque cursor of a page key (URL-safe base64 of a JSON pair)."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> PageKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return _PAGE_KEY.validate_json(raw)
    except (ValueError, ValidationError):
        raise ValueError("not a cursor this service gave out") from None


class SessionsPageQuery(StrictModel):
    """The query of GET /session_manager/users/{user_id}/sessions."""

    limit: int = Field(DEFAULT_PAGE_LIMIT, ge=1, le=MAX_PAGE_LIMIT, description="Sessions per page")
    cursor: Annotated[PageKey, BeforeValidator(_decode_cursor)] | None = Field(
        None, description="The `next_cursor` of the previous page"
    )


class UserSessions(BaseModel):
    """GET /session_manager/users/{user_id}/sessions: one page of a user's sessions, oldest first
    (by start_time, then session_id: an order new sessions do not disturb), and where the next is."""

    user_id: SafeId
    sessions: list[SessionDetail]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; none on the last")
    next: str | None = Field(None, description="The URL of the next page (path and query); none on the last")


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
