"""The recorded events, one class per kind, on the shared envelope (a3cp.schemas.EventEnvelope), and
the envelope of the streams beside the session logs (`StreamEvent`, `UserStreamEvent`).

Built here and nowhere else: the session and timeout decisions, and the capture policy's
`feature_event`, construct these classes; `to_record` turns one into the dict the recorder writes
(envelope fields first, in their declared order, then the kind's own fields; absent optional fields
are left out, as the log has always had them). `parse_event` reads a logged dict back into its class,
for the session fold, the projection and verify. Kinds this service does not write (a test's own
events, a future kind) parse as a plain `RecordedEvent`; a line without a valid envelope parses as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from a3cp.config import SCHEMA_VERSION
from a3cp.schemas.base import (
    EventEnvelope,
    PerformerId,
    RecordId,
    SafeId,
    SchemaVersion,
    Timestamp,
    new_record_id,
    utc_now,
)

START_EVENT: Final = "session.start"
END_EVENT: Final = "session.end"
FEATURE_EVENT: Final = "capture.features"
SESSION_SOURCE = "session_manager"
FEATURE_SOURCE = "landmark_extractor"
TIMEOUT_REASON: Final = "timeout"


class RecordedEvent(EventEnvelope):
    """Any logged event: the envelope plus whatever its kind carries."""

    model_config = ConfigDict(frozen=True)

    schema_version: SchemaVersion = SCHEMA_VERSION  # what this service writes; a logged event says its own

    def to_record(self) -> dict[str, Any]:
        """The JSON object the recorder appends."""
        return self.model_dump(mode="json", exclude_none=True)


class StreamEvent(BaseModel):
    """The envelope of an event in a stream beside the session logs (access, consent, recognition):
    no session, a fresh record_id and the time it was made; each stream's kinds set their `source`."""

    model_config = ConfigDict(frozen=True)

    schema_version: str = SCHEMA_VERSION
    record_id: RecordId = Field(default_factory=new_record_id)
    timestamp: Timestamp = Field(default_factory=utc_now)
    source: str
    performer_id: PerformerId

    def to_record(self) -> dict[str, Any]:
        """The JSON object the recorder appends."""
        return self.model_dump(mode="json", exclude_none=True)


class UserStreamEvent(StreamEvent):
    """An event of one person's own streams (consent, recognition): they outlive sessions."""

    model_config = ConfigDict(extra="allow")

    user_id: SafeId


class SessionStarted(RecordedEvent):
    """The first event of a session's log."""

    event: Literal["session.start"] = START_EVENT
    start_time: str | None = None
    client_timestamp: str | None = None
    is_training_data: bool | None = None
    session_notes: str | None = None
    training_intent_label: str | None = None
    device_id: str | None = None
    consent_given: bool | None = None
    is_demo: bool | None = None


class SessionEnded(RecordedEvent):
    """The last event of a session's log: a person ended it (`client_timestamp` set) or the timeout
    sweep did (`end_reason` "timeout", performer "system")."""

    event: Literal["session.end"] = END_EVENT
    end_time: str | None = None
    client_timestamp: str | None = None
    end_reason: Literal["timeout"] | None = None


class FeaturesRef(BaseModel):
    """A feature event's pointer to its .npz file, as logged (checked against the file by verify)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    uri: str | None = None
    hash: str | None = None
    encoding: str | None = None
    dims: int | None = None
    shape: tuple[int, int] | None = None
    dtype: str | None = None
    format: str | None = None


class FeatureAnnotation(BaseModel):
    """The carer's label on a feature event, with the envelope of the request that gave it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_version: str | None = None
    record_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    timestamp: str | None = None
    performer_id: str | None = None
    intent: str | None = None


class CaptureFeatures(RecordedEvent):
    """The one event a capture records: its landmark features file, quality and annotation."""

    event: Literal["capture.features"] = FEATURE_EVENT
    modality: str | None = None
    capture_id: str | None = None
    capture_performer_id: str | None = None
    timestamp_start: str | None = None
    timestamp_end: str | None = None
    raw_features_ref: FeaturesRef | None = None
    quality: dict[str, Any] | None = None
    annotation: FeatureAnnotation | None = None
    # docs/privacy.md: the `consent.granted` it was taken under, and the consent stream's length then
    consent_record_id: str | None = None
    consent_position: int | None = None


_KINDS: dict[str, type[RecordedEvent]] = {
    START_EVENT: SessionStarted,
    END_EVENT: SessionEnded,
    FEATURE_EVENT: CaptureFeatures,
}


def parse_event(record: Mapping[str, Any]) -> RecordedEvent | None:
    """The typed event of one logged dict; a known kind whose body does not fit its class (a hand-made
    line) still counts as an event of the log, as a plain RecordedEvent."""
    kind = record.get("event")
    model = _KINDS.get(kind, RecordedEvent) if isinstance(kind, str) else RecordedEvent
    try:
        return model.model_validate(record)
    except ValidationError:
        if model is RecordedEvent:
            return None
    try:
        return RecordedEvent.model_validate(record)
    except ValidationError:
        return None


@dataclass(frozen=True)
class Append:
    """A decision to record `event`."""

    event: RecordedEvent


@dataclass(frozen=True)
class Replay:
    """A retried request: the event recorded earlier is the answer, nothing is appended."""

    event: RecordedEvent


# What a decision on a session's state returns: an event to append, an earlier answer, or nothing to do.
Decision = Append | Replay | None
