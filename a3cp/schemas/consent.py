"""Request and answer bodies of the consent, curation and landmark routes (docs/privacy.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from a3cp.schemas.base import SafeId, StrictModel, Timestamp

ConsentScope = Literal["capture", "store_face", "research", "train"]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_Scopes = Annotated[list[ConsentScope], Field(min_length=1, max_length=4)]


class ConsentGrantInput(StrictModel):
    """POST /users/{user_id}/consent: who gave which consent, how, and to which text."""

    scopes: _Scopes
    grantor: _Text = Field(description="Name of who gave it: the person or their legal representative")
    relationship: Literal["self", "parent", "guardian", "representative"]
    method: Literal["written", "verbal", "app"]
    text_id: _Text
    text_version: _Text
    text_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 (64 lowercase hex) of the consent text shown"
    )
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    valid_until: Timestamp | None = None


class ConsentWithdrawInput(StrictModel):
    """POST /users/{user_id}/consent.withdraw; `erase` deletes the captures the scopes covered."""

    scopes: _Scopes
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    erase: bool = False


class ErasureInput(StrictModel):
    """POST /users/{user_id}/erasure (admin): erase everything of a person."""

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ScopeView(BaseModel):
    active: bool
    consent_record_id: str | None = None
    valid_until: str | None = None


class ConsentView(BaseModel):
    """GET /users/{user_id}/consent: the state per scope and the full history of the stream."""

    user_id: SafeId
    enforced: bool = Field(description="Whether this service refuses a capture without `capture` consent")
    scopes: dict[str, ScopeView]
    history: list[dict[str, Any]]


class ConsentTextView(BaseModel):
    """One published consent text; `sha256` is of its exact UTF-8 bytes (what `text_sha256` proves)."""

    text_id: str
    text_version: str
    language: str
    text: str
    sha256: str
    current: bool = Field(description="The highest version of this text_id in this language")


class ConsentTexts(BaseModel):
    """GET /consent/texts: every published consent text, old versions included."""

    texts: list[ConsentTextView]


class ConsentChange(BaseModel):
    """The event a consent route recorded, and the erasures it carried out."""

    event: dict[str, Any]
    erased: list[dict[str, Any]] = Field(default_factory=list)


class LabelInput(StrictModel):
    label: _Text


class DiscardInput(StrictModel):
    reason: _Text


class RestoreInput(StrictModel):
    pass


class CurationChange(BaseModel):
    """A capture's label and status after a curation event."""

    record_id: str
    label: str | None
    status: Literal["active", "discarded", "erased"]
    event: dict[str, Any]
