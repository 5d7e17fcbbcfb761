"""The consent service: read a person's consent and curation state, append to their stream, erase.

Every change is one event appended through the recorder to the per-user stream (a3cp.domain.consent),
conditional on the stream position its decision saw, so two racing writers decide on the same state at
most once. Erasure (docs/privacy.md) is resumable: the withdrawal that asks for it is recorded first;
then, per capture it covers, the feature file is deleted (the directory fsynced) and only then
`capture.erased` is appended. `resume_erasures` (run at every start, and by `a3cp verify --repair`)
finishes whatever a crash left between the two, so a file a withdrawal asked to erase never survives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from a3cp.config import Settings
from a3cp.consent_texts import consent_texts
from a3cp.domain.consent import (
    CaptureCuration,
    CaptureDiscarded,
    CaptureErased,
    CaptureFact,
    CaptureLabeled,
    CaptureRestored,
    ConsentGranted,
    ConsentWithdrawn,
    UserConsentState,
    UserEvent,
    erasure_targets,
    fold,
    require_as_published,
    require_not_erased,
)
from a3cp.domain.events import CaptureFeatures, parse_event
from a3cp.schemas import ConsentGrantInput
from a3cp.storage_layout import StorageLayout, user_stream_owners, user_stream_path
from eventstore import WrongExpectedPosition, append_event, read_log
from eventstore.durable import fsync_directory

CURATIONS: dict[str, type[CaptureLabeled | CaptureDiscarded | CaptureRestored]] = {
    "label": CaptureLabeled,
    "discard": CaptureDiscarded,
    "restore": CaptureRestored,
}


class CaptureRef(Protocol):
    """Which capture a curation is about (a RecordLocation of the projection fits)."""

    @property
    def record_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def session_id(self) -> str: ...


Decide = Callable[[UserConsentState], UserEvent | None]
StreamListener = Callable[[str], None]  # called with the user_id after each append (the projection)
MAX_APPEND_ATTEMPTS = 20


class ConsentService:
    """One process's access to the per-user streams under `settings`' LOG_ROOT."""

    def __init__(self, settings: Settings, listeners: list[StreamListener] | None = None) -> None:
        self.settings = settings
        self.listeners = list(listeners or [])
        self._layout = StorageLayout(settings)
        self._erasing = threading.Lock()  # one erasure pass at a time in this process

    def state(self, user_id: str) -> UserConsentState:
        """The fold of the user's stream (empty when there is none)."""
        return fold(read_log(user_stream_path(self.settings, user_id)).events)

    def record(self, user_id: str, decide: Decide) -> UserEvent | None:
        """Append what `decide` returns for the current state; decide again if the stream moved on."""
        path = user_stream_path(self.settings, user_id, create_dir=True)
        for _ in range(MAX_APPEND_ATTEMPTS):
            state = self.state(user_id)
            event = decide(state)
            if event is None:
                return None
            try:
                append_event(path, event.to_record(), expected_position=state.position)
            except WrongExpectedPosition:
                continue
            for listener in self.listeners:
                listener(user_id)
            return event
        raise RuntimeError(f"consent stream of {user_id} kept changing; gave up after retries")

    def grant(self, user_id: str, account: str, consent: ConsentGrantInput) -> ConsentGranted:
        """Record the consent `account` took down for `user_id` (a published text: as published)."""
        require_as_published(
            consent_texts(), consent.text_id, consent.text_version, consent.language, consent.text_sha256
        )
        event = ConsentGranted(
            user_id=user_id,
            performer_id=account,
            recorded_by=account,
            **consent.model_dump(exclude_none=True),
        )
        self.record(user_id, lambda state: event)
        return event

    def withdraw_scopes(
        self, user_id: str, account: str, scopes: Iterable[str], reason: str | None, erase: bool
    ) -> tuple[ConsentWithdrawn, list[CaptureErased]]:
        """Record a withdrawal of `scopes` by `account` (erasing what they covered when asked)."""
        event = ConsentWithdrawn.model_validate(
            {
                "user_id": user_id,
                "performer_id": account,
                "scopes": tuple(scopes),
                "reason": reason,
                "erase": erase,
            }
        )
        return event, self.withdraw(event)

    def curate_capture(
        self, kind: str, capture: CaptureRef, account: str, **fields: str
    ) -> tuple[UserEvent, CaptureCuration]:
        """Record a `label`, `discard` or `restore` (CURATIONS) of `capture` by `account`."""
        envelope = {
            "user_id": capture.user_id,
            "performer_id": account,
            "capture_record_id": capture.record_id,
            "session_id": capture.session_id,
        }
        event = CURATIONS[kind].model_validate(envelope | fields)
        return event, self.curate(event)

    def withdraw(self, withdrawal: ConsentWithdrawn) -> list[CaptureErased]:
        """Record a withdrawal, then (if it asks for erasure) erase what it covers at once."""
        self.record(withdrawal.user_id, lambda state: withdrawal)
        return self.erase_pending(withdrawal.user_id) if withdrawal.erase else []

    def curate(self, event: CaptureLabeled | CaptureDiscarded | CaptureRestored) -> CaptureCuration:
        """Record a label, discard or restore of a capture that is not erased; its curation after it."""

        def decide(state: UserConsentState) -> UserEvent:
            require_not_erased(state, event.capture_record_id)
            return event

        self.record(event.user_id, decide)
        return self.state(event.user_id).captures[event.capture_record_id]

    def captures_of(self, user_id: str) -> Iterator[CaptureFact]:
        """Every capture event in the user's session logs, as erasure needs it."""
        for name in self._layout.log_names():
            if name.split("/")[1] != user_id:
                continue
            for record in read_log(self._layout.path_of(name)).events:
                event = parse_event(record)
                if isinstance(event, CaptureFeatures):
                    yield fact_of(event)

    def erase_pending(self, user_id: str) -> list[CaptureErased]:
        """Carry out every erasure the user's stream asks for and has not recorded done."""
        done: list[CaptureErased] = []
        with self._erasing:
            state = self.state(user_id)
            for already in state.history:
                if isinstance(already, CaptureErased):  # a file back from a backup is deleted again
                    self._delete_file(already.features_uri)
            if not state.erasures:
                return done
            for capture, request in erasure_targets(state, list(self.captures_of(user_id))):
                self._delete_file(capture.features_uri)
                erased = CaptureErased(
                    user_id=user_id,
                    performer_id="system",
                    capture_record_id=capture.record_id,
                    session_id=capture.session_id,
                    features_uri=capture.features_uri,
                    features_hash=capture.features_hash,
                    reason=request.reason,
                    consent_record_id=request.consent_record_id,
                )
                recorded = self.record(user_id, _unless_erased(erased))
                if isinstance(recorded, CaptureErased):
                    done.append(recorded)
        return done

    def resume_erasures(self) -> list[CaptureErased]:
        """Finish every erasure a crash left half done, for every user (run at start and by repair)."""
        owners = user_stream_owners(self.settings)
        return [erased for user_id in owners for erased in self.erase_pending(user_id)]

    def _delete_file(self, uri: str | None) -> None:
        path = self._file_of(uri)
        if path is None:
            return
        path.unlink(missing_ok=True)  # already gone: a crashed erasure deleted it before its event
        if path.parent.is_dir():
            fsync_directory(path.parent)

    def _file_of(self, uri: str | None) -> Path | None:
        if uri is None:
            return None
        path = (self.settings.data_root / uri).resolve()
        root = self.settings.data_root.resolve()
        return path if root in path.parents else None  # never delete outside DATA_ROOT


def _unless_erased(erased: CaptureErased) -> Decide:
    """Record `erased` unless the stream already says so (an erasure another process finished)."""

    def decide(state: UserConsentState) -> UserEvent | None:
        return None if state.status_of(erased.capture_record_id) == "erased" else erased

    return decide


def fact_of(event: CaptureFeatures) -> CaptureFact:
    """What erasure needs of one logged capture."""
    ref = event.raw_features_ref
    quality = event.quality or {}
    return CaptureFact(
        record_id=event.record_id,
        session_id=event.session_id,
        features_uri=ref.uri if ref is not None else None,
        features_hash=ref.hash if ref is not None else None,
        consent_position=event.consent_position,
        face_stored=quality.get("face_stored", True) is not False,
    )
