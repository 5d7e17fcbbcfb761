"""`A3CPMessage`, the general runtime/log message, and `RawFeaturesRef`, the pointer to a feature file.

Both follow the upstream A3CP rules so its schemas read our events: extra fields are allowed on the
message; a features reference has a `.npz` uri, a `sha256:`-prefixed lowercase hex hash, a
two-element shape [T, D], a dtype and format "npz". `dims` is this project's original field, kept
beside upstream's `shape`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from a3cp.schemas.base import EventEnvelope, Modality, SafeId, Timestamp

HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"


class Annotation(BaseModel):
    """The carer's label given at capture time."""

    model_config = ConfigDict(extra="forbid")

    intent: Annotated[str, Field(min_length=1, max_length=200)]


class RawFeaturesRef(BaseModel):
    """Where a capture's landmark features live and how to check them."""

    model_config = ConfigDict(extra="allow")

    uri: Annotated[str, Field(pattern=r"^[A-Za-z0-9_./-]+\.npz$", description="Relative to DATA_ROOT")]
    hash: Annotated[str, Field(pattern=HASH_PATTERN)]
    encoding: str
    dims: Annotated[int, Field(ge=1)]
    shape: Annotated[list[int], Field(min_length=2, max_length=2)]
    dtype: Literal["float32"] = "float32"
    format: Literal["npz"] = "npz"

    @model_validator(mode="after")
    def _shape_matches_dims(self) -> RawFeaturesRef:
        if self.shape[1] != self.dims or self.shape[0] < 0:
            raise ValueError("shape must be [T, D] with D == dims")
        if ".." in self.uri.split("/") or self.uri.startswith("/"):
            raise ValueError("uri must be a relative path inside DATA_ROOT")
        return self


class RecordedAnnotation(Annotation):
    """An annotation as recorded on a feature event: the intent plus the envelope of the request that
    gave it, so upstream's Annotation model (which requires the envelope) reads it too."""

    model_config = ConfigDict(extra="allow")


class A3CPMessage(EventEnvelope):
    """A recorded message; capture events carry `capture_id`, `raw_features_ref` and `annotation`."""

    modality: Modality | None = None
    capture_id: str | None = None
    raw_features_ref: RawFeaturesRef | None = None
    annotation: RecordedAnnotation | None = None
    session_id: SafeId
    timestamp: Timestamp
