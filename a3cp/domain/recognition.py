"""Personal recognition as recorded facts and the rules that gate it (docs/recognition.md, *Service*).

The per-user recognition stream (`<LOG_ROOT>/users/<user_id>/recognition` + the log suffix, beside the
consent stream) holds `recognizer.built` (a model was built: its hash and the record_ids of its examples)
and `gesture.recognized` (a capture was recognized: its record_id, the model hash, the top labels with
their scores, the decision). Neither carries landmarks or other biometric values: labels, ids and scores
only. Pure code: no I/O.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from a3cp.domain.consent import Sha256, ShortText, UserConsentState
from a3cp.domain.errors import DomainError
from a3cp.domain.events import UserStreamEvent
from a3cp.schemas.base import RecordId, SafeId

RECOGNITION_SOURCE = "recognizer"
TOP_K = 3  # the labels a recognition reports (and records) besides its decision


class TrainConsentRequired(DomainError):
    """The person has not (or no longer) consented to a personal recognizer (scope `train`)."""

    code = "train_consent_required"


class NoVocabulary(DomainError):
    """The person has no labelled, active example yet: there is nothing to recognize against."""

    code = "no_vocabulary"


class ScoredLabel(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: ShortText
    score: float


class RecognizerBuilt(UserStreamEvent):
    event: Literal["recognizer.built"] = "recognizer.built"
    source: str = RECOGNITION_SOURCE
    model_hash: Sha256
    code_version: str
    record_ids: tuple[RecordId, ...]  # the examples, sorted
    labels: dict[str, int]  # label -> examples


class GestureRecognized(UserStreamEvent):
    event: Literal["gesture.recognized"] = "gesture.recognized"
    source: str = RECOGNITION_SOURCE
    capture_record_id: RecordId
    session_id: SafeId
    model_hash: Sha256
    top: tuple[ScoredLabel, ...]
    decision: ShortText | None  # None: not sure

    def to_record(self) -> dict[str, Any]:
        # The decision is written even when None: "not sure" is an answer, not a missing field.
        return {**super().to_record(), "decision": self.decision}


def require_train_consent(state: UserConsentState, now: str) -> None:
    """TrainConsentRequired unless the person's `train` consent is in force."""
    if not state.scopes["train"].active_at(now):
        raise TrainConsentRequired(
            "the person has not consented to a personal recognizer (consent scope train)", "user_id"
        )
