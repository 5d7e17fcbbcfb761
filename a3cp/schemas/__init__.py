"""The public schema surface: routes and clients import models from here only."""

from a3cp.schemas.a3cp_message import A3CPMessage, Annotation, RawFeaturesRef
from a3cp.schemas.base import (
    SYSTEM_PERFORMER,
    Envelope,
    EventEnvelope,
    PerformerId,
    RecordId,
    SafeId,
    Timestamp,
    format_timestamp,
    new_record_id,
    parse_timestamp,
    utc_now,
)
from a3cp.schemas.capture import CaptureCreated, CaptureMeta, CaptureSpec
from a3cp.schemas.capture_ws import (
    CAPTURE_CLIENT_MESSAGE,
    CaptureAbort,
    CaptureClose,
    CaptureFrameMeta,
    CaptureOpen,
    CaptureResult,
)
from a3cp.schemas.errors import ErrorResponse, FieldError
from a3cp.schemas.projection import (
    CaptureSummary,
    FeaturesIndex,
    RecordCheckResult,
    RecordLocation,
    SessionDetail,
    UserSessions,
)
from a3cp.schemas.session_manager import (
    Session,
    SessionManagerEndInput,
    SessionManagerEndOutput,
    SessionManagerStartInput,
    SessionManagerStartOutput,
    SessionValidateInput,
    SessionValidateOutput,
)

__all__ = [
    "CaptureCreated",
    "CaptureMeta",
    "CaptureSpec",
    "CAPTURE_CLIENT_MESSAGE",
    "CaptureAbort",
    "CaptureClose",
    "CaptureFrameMeta",
    "CaptureOpen",
    "CaptureResult",
    "SYSTEM_PERFORMER",
    "A3CPMessage",
    "Annotation",
    "CaptureSummary",
    "Envelope",
    "ErrorResponse",
    "EventEnvelope",
    "FeaturesIndex",
    "FieldError",
    "PerformerId",
    "RawFeaturesRef",
    "RecordCheckResult",
    "RecordId",
    "RecordLocation",
    "SafeId",
    "Session",
    "SessionDetail",
    "SessionManagerEndInput",
    "SessionManagerEndOutput",
    "SessionManagerStartInput",
    "SessionManagerStartOutput",
    "SessionValidateInput",
    "SessionValidateOutput",
    "Timestamp",
    "UserSessions",
    "format_timestamp",
    "new_record_id",
    "parse_timestamp",
    "utc_now",
]
