"""Request and response models of the session manager, and the projected `Session`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from a3cp.schemas.base import Envelope, InputTimestamp, PerformerId, RecordedEnvelope, SafeId, Timestamp

SessionStatus = Literal["active", "closed"]
ValidationStatus = Literal["active", "closed", "invalid"]


class SessionManagerStartInput(Envelope):
    """POST /session_manager/sessions.start. `record_id` is the idempotency key.

    `session_id` may only be null: upstream A3CP's start model serialises its unset envelope fields as
    null (docs/upstream.md); the server issues the id, so a value is refused as before.
    """

    session_id: None = Field(default=None, description="Always null or absent: the server issues the id")
    performer_id: PerformerId
    is_training_data: bool = False
    session_notes: str | None = Field(default=None, max_length=2000)
    training_intent_label: str | None = Field(default=None, max_length=200)
    device_id: str | None = Field(default=None, max_length=128)
    consent_given: bool | None = None
    is_demo: bool | None = None


class SessionManagerStartOutput(RecordedEnvelope):
    """The started session: its server-issued id and the recorded start event's envelope."""

    start_time: Timestamp
    is_training_data: bool
    session_notes: str | None = None
    training_intent_label: str | None = None


class SessionManagerEndInput(Envelope):
    """POST /session_manager/sessions.end. `end_time` defaults to the server's time."""

    session_id: SafeId
    performer_id: PerformerId
    end_time: InputTimestamp | None = None


class SessionManagerEndOutput(RecordedEnvelope):
    """The closed session and the recorded end event's envelope."""

    end_time: Timestamp
    status: Literal["closed"] = "closed"


class SessionValidateInput(BaseModel):
    """POST /session_manager/sessions.validate: any strings; malformed ids answer `invalid`."""

    user_id: str = Field(max_length=256)
    session_id: str | None = Field(default=None, max_length=256)


class SessionValidateOutput(BaseModel):
    status: ValidationStatus


class Session(BaseModel):
    """A session as derived from its log."""

    session_id: SafeId
    user_id: SafeId
    start_time: Timestamp
    end_time: Timestamp | None = None
    status: SessionStatus
    is_training_data: bool = False
    session_notes: str | None = None
    training_intent_label: str | None = None
    performer_id: PerformerId | None = None
    end_performer_id: PerformerId | None = None
