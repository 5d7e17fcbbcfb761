"""Which captures an export takes: active (discarded only when asked, erased never), of a user whose
`research` consent is in force at export time, and matching the request's filters. Pure code: the
caller hands in the logged feature events and each user's consent fold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from a3cp.domain.consent import CaptureStatus, UserConsentState
from a3cp.domain.events import CaptureFeatures
from a3cp.schemas import ExportRequest


@dataclass(frozen=True)
class SelectedCapture:
    """A capture that goes into the export, with what the export says of it."""

    event: CaptureFeatures
    label: str | None  # the curated label, else the annotation it was captured with
    status: CaptureStatus
    consent_record_id: str  # the `research` consent in force that allows it out

    @property
    def record_id(self) -> str:
        return self.event.record_id

    @property
    def user_id(self) -> str:
        return self.event.user_id


def label_of(event: CaptureFeatures, state: UserConsentState) -> str | None:
    """A capture's current label: its latest curation, else the intent it was annotated with."""
    curation = state.captures.get(event.record_id)
    if curation is not None and curation.label is not None:
        return curation.label
    return event.annotation.intent if event.annotation is not None else None


def _matches(event: CaptureFeatures, label: str | None, request: ExportRequest) -> bool:
    if request.users and event.user_id not in request.users:
        return False
    if request.labels and label not in request.labels:
        return False
    started = event.timestamp_start or event.timestamp
    if request.since is not None and started < request.since:
        return False
    if request.until is not None and started >= request.until:
        return False
    quality = event.quality or {}
    return all(
        isinstance(quality.get(part), int | float) and float(quality[part]) >= least
        for part, least in request.min_quality.items()
    )


def select(
    events: Iterable[CaptureFeatures],
    states: Mapping[str, UserConsentState],
    request: ExportRequest,
    now: str,
    erasing: frozenset[str] = frozenset(),
) -> list[SelectedCapture]:
    """The captures the export takes, in a stable order (user, start time, record_id); `erasing` are
    the record_ids a recorded withdrawal asked to erase whose erasure has not finished (a crash between
    the two): they are as good as erased."""
    chosen = []
    for event in events:
        state = states[event.user_id]
        research = state.scopes["research"]
        status = state.status_of(event.record_id)
        if status == "erased" or event.record_id in erasing:
            continue
        if status == "discarded" and not request.include_discarded:
            continue
        if not research.active_at(now) or research.consent_record_id is None:
            continue
        label = label_of(event, state)
        if _matches(event, label, request):
            chosen.append(SelectedCapture(event, label, status, research.consent_record_id))
    return sorted(chosen, key=lambda c: (c.user_id, c.event.timestamp_start or "", c.record_id))
