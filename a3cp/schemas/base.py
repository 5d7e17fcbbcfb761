"""Field types and the event envelope shared by every A3CP message.

Wire rules: ids that become path segments match `ID_PATTERN`; `record_id` is a UUIDv4 (stored in
canonical lowercase form); recorded timestamps are UTC ISO 8601 with exactly milliseconds and a `Z`
(`Timestamp`). Requests may send any RFC 3339 time with `Z` or a numeric offset and up to microseconds
(`InputTimestamp`, what upstream A3CP's clients and tests send); it is normalised to the recorded form
on the way in, so nothing else ever sees another form. A time without an offset is refused: guessing
UTC, as upstream does, would silently shift a local clock's times.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from a3cp.config import SCHEMA_VERSION
from a3cp.storage_layout import ID_PATTERN

UUID4_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
_UUID4_RE = re.compile(UUID4_PATTERN.strip("^$"), re.ASCII)
# ASCII digits only: a bare \d also matches fullwidth and Arabic-Indic digits, which strptime accepts.
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
# The published pattern also bounds month, day, hour, minute and second (the validator checks the date).
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$"
)


def _check_uuid4(value: str) -> str:
    if _UUID4_RE.fullmatch(value) is None:
        raise ValueError("must be a UUIDv4 in 8-4-4-4-12 hex form")
    return value.lower()


def _instant(value: str) -> datetime:
    """The aware UTC instant of a wire timestamp; ValueError naming what is wrong otherwise."""
    if _TIMESTAMP_RE.fullmatch(value) is None:
        raise ValueError("must be UTC ISO 8601 with milliseconds and Z, e.g. 2026-11-24T10:00:00.123Z")
    try:
        # fromisoformat, not strptime: the pattern already fixed the form, and it is ~25x faster (every
        # logged event's timestamp is checked again when the projection or a fold reads it back)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a real date and time: {exc}") from None


def _check_timestamp(value: str) -> str:
    _instant(value)
    return value


_INPUT_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)
INPUT_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def _normalise_input_timestamp(value: str) -> str:
    """An RFC 3339 time with an offset, as the recorded form (UTC, milliseconds truncated, Z)."""
    if _INPUT_TIMESTAMP_RE.fullmatch(value) is None:
        if _INPUT_TIMESTAMP_RE.fullmatch(value + "Z") is not None:
            raise ValueError("has no UTC offset: end it with Z or a numeric offset such as +01:00")
        raise ValueError(
            "must be RFC 3339 with Z or a numeric offset, e.g. 2026-11-24T10:00:00.123Z or "
            "2026-11-24T11:00:00.123456+01:00"
        )
    try:
        return format_timestamp(datetime.fromisoformat(value))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a real date and time: {exc}") from None


SafeId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description=f"Identifier used as a path segment; matches {ID_PATTERN}"),
]
RecordId = Annotated[
    str,
    AfterValidator(_check_uuid4),
    Field(description="UUIDv4", json_schema_extra={"format": "uuid", "pattern": UUID4_PATTERN}),
]
Timestamp = Annotated[
    str,
    AfterValidator(_check_timestamp),
    Field(
        description="UTC ISO 8601 with milliseconds and Z",
        # The pattern alone: it is the whole contract, and "format": "date-time" (any RFC 3339 form) on top
        # of it left schema-driven generators (schemathesis) unable to draw a valid capture meta.
        json_schema_extra={"pattern": TIMESTAMP_PATTERN},
    ),
]
InputTimestamp = Annotated[
    str,
    AfterValidator(_normalise_input_timestamp),
    Field(
        description="RFC 3339 with Z or a numeric offset, up to microseconds; recorded as UTC milliseconds Z",
        json_schema_extra={"pattern": INPUT_TIMESTAMP_PATTERN},
    ),
]
SchemaVersion = Annotated[
    str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$"), Field(description="MAJOR.MINOR.PATCH")
]
PerformerId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN),
    Field(description='Who performed the action; "system" for system-generated events'),
]
Modality = Literal["gesture", "audio", "speech", "image", "multimodal"]
SYSTEM_PERFORMER = "system"


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime in the wire form (UTC, milliseconds, Z)."""
    # isoformat, not strftime: glibc's %Y does not zero-pad years before 1000
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(value: str) -> datetime:
    """Parse a wire timestamp into an aware UTC datetime."""
    return _instant(value)


def utc_now() -> str:
    """The current time as a wire timestamp."""
    return format_timestamp(datetime.now(UTC))


def new_record_id() -> str:
    """A fresh UUIDv4 in canonical form."""
    return str(uuid.uuid4())


class StrictModel(BaseModel):
    """Requests: unknown fields are errors, so a typo is named instead of silently dropped (pydantic
    never turns a number into a string field's value, so strings need no extra strictness)."""

    model_config = ConfigDict(extra="forbid")


class Envelope(StrictModel):
    """Fields every request carries (the upstream A3CP 'session spine')."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    record_id: RecordId
    user_id: SafeId
    timestamp: InputTimestamp
    modality: Modality | None = None
    source: str | None = Field(default=None, max_length=64)


class RecordedEnvelope(BaseModel):
    """The envelope of a recorded event, as answers echo it."""

    schema_version: SchemaVersion
    record_id: RecordId
    user_id: SafeId
    session_id: SafeId
    timestamp: Timestamp
    source: str
    performer_id: PerformerId


class EventEnvelope(RecordedEnvelope):
    """Fields every recorded event carries; extra fields are kept (upstream's A3CPMessage rule)."""

    model_config = ConfigDict(extra="allow")

    event: str
