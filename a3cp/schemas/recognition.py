"""Requests and answers of the recognition routes (docs/recognition.md, *Service*): a person's vocabulary
and the recognition of one capture."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from a3cp.schemas.base import RecordId, SafeId, StrictModel


class VocabularyExample(BaseModel):
    record_id: RecordId
    session_id: SafeId
    quality: dict[str, Any]


class VocabularyLabel(BaseModel):
    label: str
    examples: int
    quality: dict[str, float] = Field(description="Per body part: the mean fraction of frames it was seen in")
    records: list[VocabularyExample]


class UnusableVocabularyExample(BaseModel):
    """A labelled capture left out of the recognizer: its features cannot be used (`reason` says why)."""

    record_id: RecordId
    session_id: SafeId
    label: str
    reason: str


class VocabularyView(BaseModel):
    """GET /users/{user_id}/vocabulary: the labels a recognizer for this person is built from."""

    user_id: SafeId
    trainable: bool = Field(description="False: no `train` consent, so no capture may be used")
    reason: str | None = Field(default=None, description="Why not trainable: an error code of the table")
    message: str | None = None
    examples: int
    labels: list[VocabularyLabel]
    unusable: list[UnusableVocabularyExample] = Field(
        default_factory=list,
        description="Labelled captures not used: the recognizer cannot use their features",
    )


class RecognizeInput(StrictModel):
    record_id: RecordId


class LabelScore(BaseModel):
    label: str
    score: float = Field(description="Similarity in (0, 1]: higher is closer; about 0.5 at the threshold")


class RecognitionView(BaseModel):
    """POST /users/{user_id}/recognize: the answer for one capture and the event that records it."""

    record_id: RecordId
    user_id: SafeId
    label: str | None = Field(description="The decision; null: not sure")
    scores: list[LabelScore] = Field(description="The nearest labels, best first")
    model_hash: str
    event: dict[str, Any]
