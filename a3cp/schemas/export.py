"""Request and answer bodies of the dataset export routes (docs/export.md): what to export, and what
an export holds (its manifest) and who made it (the listing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from a3cp.schemas.base import InputTimestamp, SafeId, StrictModel, Timestamp

ExportFormat = Literal["npz", "islr", "pose"]
QualityPart = Literal["pose", "face", "left_hand", "right_hand"]
_Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class ExportRequest(StrictModel):
    """POST /exports (and `a3cp export`): the format and the filters. A capture is exported when it
    matches every filter given; an empty `users` means every user the account may export."""

    format: ExportFormat
    users: Annotated[list[SafeId], Field(max_length=1000)] = []
    labels: Annotated[list[_Label], Field(max_length=1000)] = []
    since: InputTimestamp | None = Field(default=None, description="captures started at or after this")
    until: InputTimestamp | None = Field(default=None, description="captures started before this")
    min_quality: dict[QualityPart, _Fraction] = Field(
        default_factory=dict, description="per part, the least fraction of frames it was detected in"
    )
    include_discarded: bool = False

    def filters(self) -> dict[str, Any]:
        """The filters as recorded in the manifest and the audit trail (users and labels sorted)."""
        return {
            "users": sorted(set(self.users)),
            "labels": sorted(set(self.labels)),
            "since": self.since,
            "until": self.until,
            "min_quality": dict(sorted(self.min_quality.items())),
            "include_discarded": self.include_discarded,
        }


class ExportProgress(BaseModel):
    """How far an export got: captures written out of those selected."""

    done: int
    total: int


class ExportCreated(BaseModel):
    """The answer to POST /exports: the export's id and time, how far it got, and its manifest."""

    export_id: SafeId
    created_at: Timestamp
    progress: ExportProgress
    download: str = Field(description="GET this path for the export as one tar archive")
    manifest: dict[str, Any]


class ExportListing(BaseModel):
    """One export as the audit trail recorded it."""

    export_id: SafeId
    created_at: Timestamp
    account: str | None
    format: ExportFormat
    filters: dict[str, Any]
    captures: int
    users: list[SafeId]


class ExportDeleted(BaseModel):
    """DELETE /exports/{export_id}: the export deleted from the server (copies downloaded stay)."""

    export_id: SafeId
    deleted: Literal[True] = True


class ExportsList(BaseModel):
    """GET /exports: the exports the account made (every export for an admin), oldest first."""

    exports: list[ExportListing]
