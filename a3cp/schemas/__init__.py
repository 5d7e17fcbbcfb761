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
from a3cp.schemas.errors import ErrorResponse, FieldError
from a3cp.schemas.session_manager import (
    Session,
    SessionHeader,
    SessionManagerEndInput,
    SessionManagerEndOutput,
    SessionManagerStartInput,
    SessionManagerStartOutput,
    SessionValidateInput,
    SessionValidateOutput,
)

__all__ = [
    "SYSTEM_PERFORMER",
    "A3CPMessage",
    "Annotation",
    "Envelope",
    "ErrorResponse",
    "EventEnvelope",
    "FieldError",
    "PerformerId",
    "RawFeaturesRef",
    "RecordId",
    "SafeId",
    "Session",
    "SessionHeader",
    "SessionManagerEndInput",
    "SessionManagerEndOutput",
    "SessionManagerStartInput",
    "SessionManagerStartOutput",
    "SessionValidateInput",
    "SessionValidateOutput",
    "Timestamp",
    "format_timestamp",
    "new_record_id",
    "parse_timestamp",
    "utc_now",
]
