"""A person's consent and the curation of their captures: the per-user stream's events and its fold.

The stream (`<LOG_ROOT>/users/<user_id>/consent` + the log suffix) holds, in order, every consent given
or withdrawn (`consent.granted`, `consent.withdrawn`) and every change to a capture that outlives its
session (`capture.labeled`, `capture.discarded`, `capture.restored`, `capture.erased`). Nothing is
edited: `fold` derives the current state per scope and per capture. Pure code: no I/O.

Scopes (docs/privacy.md): `capture` (record gestures), `store_face` (keep the face landmarks),
`research` (researchers may read and export), `train` (may train a personal recognizer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from a3cp.domain.errors import DomainError, RecordNotFound
from a3cp.domain.events import UserStreamEvent
from a3cp.landmarks.layout import PARTS
from a3cp.schemas.base import PerformerId, RecordId, SafeId, Timestamp

Scope = Literal["capture", "store_face", "research", "train"]
SCOPES: tuple[Scope, ...] = ("capture", "store_face", "research", "train")
CONSENT_SOURCE = "consent"
CaptureStatus = Literal["active", "discarded", "erased"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
FACE = next(part for part in PARTS if part.name == "face")


class ConsentRequired(DomainError):
    """The person has not (or no longer) given the consent this write needs; nothing is written."""

    code = "consent_required"


class ConsentTextMismatch(DomainError):
    """A grant names a published consent text, but not as it was published; nothing is written."""

    code = "consent_text_mismatch"


class PublishedText(Protocol):
    """What a grant is checked against: one published consent text's identity and sha256."""

    @property
    def text_id(self) -> str: ...
    @property
    def text_version(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def sha256(self) -> str: ...


def require_as_published(
    published: Iterable[PublishedText], text_id: str, text_version: str, language: str, sha256: str
) -> None:
    """A grant to one of the published texts must name a published version and language of it and
    carry that file's sha256, or the record would claim a text nobody was shown. A text_id that was
    never published (an organisation's own paper form) is the organisation's to keep and prove."""
    same_id = [text for text in published if text.text_id == text_id]
    if not same_id:
        return
    shown = [text for text in same_id if (text.text_version, text.language) == (text_version, language)]
    if not shown:
        published_as = ", ".join(sorted(f"{t.text_version} ({t.language})" for t in same_id))
        raise ConsentTextMismatch(
            f"consent text {text_id} was published as {published_as}, not {text_version} ({language})",
            "text_version",
        )
    if shown[0].sha256 != sha256:
        raise ConsentTextMismatch(
            f"text_sha256 is not the sha256 of the published text {text_id} {text_version} ({language})",
            "text_sha256",
        )


class CaptureErasedError(DomainError):
    """The capture was erased: its features are gone for good."""

    code = "capture_erased"


class _UserEvent(UserStreamEvent):
    source: str = CONSENT_SOURCE


class ConsentGranted(_UserEvent):
    event: Literal["consent.granted"] = "consent.granted"
    scopes: tuple[Scope, ...]
    grantor: ShortText
    relationship: Literal["self", "parent", "guardian", "representative"]
    method: Literal["written", "verbal", "app"]
    text_id: ShortText
    text_version: ShortText
    text_sha256: Sha256
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    valid_until: Timestamp | None = None
    recorded_by: PerformerId


class ConsentWithdrawn(_UserEvent):
    event: Literal["consent.withdrawn"] = "consent.withdrawn"
    scopes: tuple[Scope, ...]
    reason: str | None = None
    erase: bool = False


class _CaptureEvent(_UserEvent):
    capture_record_id: RecordId
    session_id: SafeId


class CaptureLabeled(_CaptureEvent):
    event: Literal["capture.labeled"] = "capture.labeled"
    label: ShortText


class CaptureDiscarded(_CaptureEvent):
    event: Literal["capture.discarded"] = "capture.discarded"
    reason: ShortText


class CaptureRestored(_CaptureEvent):
    event: Literal["capture.restored"] = "capture.restored"


class CaptureErased(_CaptureEvent):
    """What an erasure removed (the file's old hash and place) and the withdrawal that asked for it."""

    event: Literal["capture.erased"] = "capture.erased"
    features_uri: str | None = None
    features_hash: str | None = None
    reason: str | None = None
    consent_record_id: RecordId


UserEvent = Annotated[
    ConsentGranted | ConsentWithdrawn | CaptureLabeled | CaptureDiscarded | CaptureRestored | CaptureErased,
    Field(discriminator="event"),
]
_USER_EVENT: TypeAdapter[UserEvent] = TypeAdapter(UserEvent)


def parse_user_event(record: Mapping[str, Any]) -> UserEvent | None:
    """The typed event of one logged dict of the user stream; None for a line of an unknown kind."""
    try:
        return _USER_EVENT.validate_python(record)
    except ValidationError:
        return None


@dataclass(frozen=True)
class ScopeState:
    """One scope now: the grant in force (its record_id and expiry), or none."""

    consent_record_id: str | None = None
    valid_until: str | None = None

    def active_at(self, now: str) -> bool:
        return self.consent_record_id is not None and (self.valid_until is None or now < self.valid_until)


@dataclass(frozen=True)
class CaptureCuration:
    """A capture's current label (None: the annotation it was taken with stands) and status."""

    session_id: str
    label: str | None = None
    status: CaptureStatus = "active"


@dataclass(frozen=True)
class ErasureRequest:
    """A withdrawal that asked for erasure: which scopes, and how far the stream was when it was made."""

    consent_record_id: str
    scopes: tuple[Scope, ...]
    reason: str | None
    position: int


@dataclass(frozen=True)
class UserConsentState:
    """The fold of one user's stream."""

    scopes: Mapping[str, ScopeState] = field(
        default_factory=lambda: {scope: ScopeState() for scope in SCOPES}
    )
    history: tuple[UserEvent, ...] = ()
    captures: Mapping[str, CaptureCuration] = field(default_factory=dict)
    erasures: tuple[ErasureRequest, ...] = ()

    @property
    def position(self) -> int:
        return len(self.history)

    def status_of(self, capture_record_id: str) -> CaptureStatus:
        found = self.captures.get(capture_record_id)
        return found.status if found is not None else "active"


def apply(state: UserConsentState, event: UserEvent) -> UserConsentState:
    """The state after `event` (an erased capture stays erased whatever follows)."""
    scopes = dict(state.scopes)
    captures = dict(state.captures)
    erasures = state.erasures
    if isinstance(event, ConsentGranted):
        for scope in event.scopes:
            scopes[scope] = ScopeState(event.record_id, event.valid_until)
    elif isinstance(event, ConsentWithdrawn):
        for scope in event.scopes:
            scopes[scope] = ScopeState()
        if event.erase:
            erasures += (ErasureRequest(event.record_id, event.scopes, event.reason, state.position),)
    else:
        current = captures.get(event.capture_record_id, CaptureCuration(event.session_id))
        if current.status != "erased":
            if isinstance(event, CaptureLabeled):
                current = replace(current, label=event.label)
            elif isinstance(event, CaptureDiscarded):
                current = replace(current, status="discarded")
            elif isinstance(event, CaptureRestored):
                current = replace(current, status="active")
            else:
                current = replace(current, status="erased")
            captures[event.capture_record_id] = current
    return UserConsentState(scopes, (*state.history, event), captures, erasures)


def fold(records: Iterable[Mapping[str, Any]]) -> UserConsentState:
    """The state of a user stream's logged dicts (lines of unknown kinds are skipped)."""
    state = UserConsentState()
    for record in records:
        event = parse_user_event(record)
        if event is not None:
            state = apply(state, event)
    return state


def require_consent(state: UserConsentState, scope: Scope, now: str) -> str:
    """The record_id of the `scope` consent in force; ConsentRequired (naming the scope) without one."""
    found = state.scopes[scope]
    if not found.active_at(now) or found.consent_record_id is None:
        raise ConsentRequired(f"the person has not given consent for this (scope {scope})", scope)
    return found.consent_record_id


def may_store_face(state: UserConsentState, now: str) -> bool:
    """Whether the face landmarks may be kept (`store_face` in force)."""
    return state.scopes["store_face"].active_at(now)


def require_not_erased(state: UserConsentState, capture_record_id: str) -> None:
    if state.status_of(capture_record_id) == "erased":
        raise CaptureErasedError("the capture was erased", "record_id")


def require_capture_known(known: bool) -> None:
    if not known:
        raise RecordNotFound("no such capture", "record_id")


@dataclass(frozen=True)
class CaptureFact:
    """What erasure needs of one capture event: where its file is and which consent it was taken under."""

    record_id: str
    session_id: str
    features_uri: str | None
    features_hash: str | None
    consent_position: int | None  # the stream's length when its consent was read (None: before consent)
    face_stored: bool


def erasure_targets(
    state: UserConsentState, captures: Iterable[CaptureFact]
) -> list[tuple[CaptureFact, ErasureRequest]]:
    """Every capture some erasure request covers and that is not yet recorded erased, with the request.

    A request covers the captures whose consent was read before it was made (and those from before
    consent was recorded): `capture`, `research` and `train` cover all of them (features cannot be
    split by use), `store_face` only those stored with their face. Captures taken after it are not.
    """
    pending: list[tuple[CaptureFact, ErasureRequest]] = []
    for capture in captures:
        if state.status_of(capture.record_id) == "erased":
            continue
        taken_at = capture.consent_position if capture.consent_position is not None else -1
        for request in state.erasures:
            if taken_at > request.position:
                continue  # taken after the request
            if set(request.scopes) == {"store_face"} and not capture.face_stored:
                continue
            pending.append((capture, request))
            break
    return pending


@dataclass(frozen=True)
class CaptureBasis:
    """On what a capture is taken: the `capture` consent in force (None where consent is not enforced,
    a deployment's explicit choice) and whether its face landmarks may be kept."""

    consent_record_id: str | None
    store_face: bool
    consent_position: int | None = None  # the stream's length when the consent was read


UNENFORCED = CaptureBasis(consent_record_id=None, store_face=True)


def capture_basis(state: UserConsentState, now: str) -> CaptureBasis:
    """The basis of a capture for this person now; ConsentRequired without `capture` consent."""
    return CaptureBasis(require_consent(state, "capture", now), may_store_face(state, now), state.position)


def without_face(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The features with every face column NaN (not detected and not kept), for a capture without
    `store_face`; the other parts are untouched."""
    masked = features.copy()
    masked[:, FACE.columns] = np.nan
    return masked
