"""A hypothesis state machine over consent grants and withdrawals (with and without erasure), captures,
labels, discards, restores and an admin's whole-person erasure, through the services the routes use.

After every step: the live projection equals a rebuild, every capture is in exactly one of
active/discarded/erased (as the model expects), no erased capture's file exists, every other file
verifies, and each capture event names the `capture` consent it was taken under.

The capture path is the real one (policy, JPEG decode, feature file, event, consent basis, face mask)
except MediaPipe: a stand-in tracker gives fixed rows (pose and face found, no hands), because a real
Holistic per capture would make each example take seconds.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine, select

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.domain.consent import (
    SCOPES,
    CaptureDiscarded,
    CaptureErasedError,
    CaptureLabeled,
    CaptureRestored,
    ConsentGranted,
    ConsentRequired,
    ConsentWithdrawn,
)
from a3cp.landmarks.layout import PARTS, empty_row
from a3cp.schemas import CaptureSpec, SessionManagerStartInput, format_timestamp, parse_timestamp, utc_now
from a3cp.services.verify import feature_events, verify
from projections.models import Base
from projections.store import Projection

USER = "stateful01"
FACE = next(part for part in PARTS if part.name == "face")
FPS, FRAMES = 2, 5
# The scope sets that matter (a random subset of four rarely hits `store_face` alone, which erases
# only the captures kept with their face).
SCOPE_SETS = st.sampled_from(
    [{"capture"}, {"store_face"}, {"capture", "store_face"}, {"research"}, {"train"}, set(SCOPES)]
)


class StandInTracker:
    """Fixed rows instead of MediaPipe: every part but the hands found."""

    def features(self, rgb: Any) -> Any:
        row = empty_row()
        row[: FACE.columns.stop] = 0.5  # pose and face come first in the layout
        return row

    def close(self) -> None:
        pass


def _jpeg() -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.zeros((32, 32, 3), np.uint8))
    assert ok
    return encoded.tobytes()


JPEG = _jpeg()


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(select(table))))
            for name, table in Base.metadata.tables.items()
        }


class ConsentMachine(RuleBasedStateMachine):
    captures = Bundle("captures")

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="consent-sm-"))
        self.settings = Settings(
            data_root=self.root / "data",
            log_root=self.root / "logs",
            db_url=f"sqlite:///{self.root / 'live.sqlite3'}",
            consent_required=True,
        )
        self.patch = mock.patch("a3cp.services.captures.HolisticTracker", StandInTracker)
        self.patch.start()
        self.services = Services.build(self.settings)
        started = self.services.sessions.start(
            SessionManagerStartInput(
                schema_version="1.0.1",
                record_id=str(uuid.uuid4()),
                user_id=USER,
                timestamp=utc_now(),
                performer_id="carer01",
            )
        )
        self.session_id = started.session_id
        self.active: set[str] = set()  # scopes in force
        self.status: dict[str, str] = {}  # capture record_id -> expected status
        self.face: dict[str, bool] = {}  # capture record_id -> stored with its face

    def teardown(self) -> None:
        self.services.projection.engine.dispose()
        self.patch.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @rule(scopes=SCOPE_SETS)
    def grant(self, scopes: set[str]) -> None:
        event = ConsentGranted(
            user_id=USER,
            performer_id="carer01",
            recorded_by="carer01",
            scopes=tuple(sorted(scopes)),
            grantor="Maria Example",
            relationship="parent",
            method="verbal",
            text_id="consent-gestures",
            text_version="1",
            text_sha256="0" * 64,
            language="en",
        )
        self.services.consent.record(USER, lambda state: event)
        self.active |= scopes

    @rule(scopes=SCOPE_SETS, erase=st.booleans())
    def withdraw(self, scopes: set[str], erase: bool) -> None:
        event = ConsentWithdrawn(
            user_id=USER, performer_id="carer01", scopes=tuple(sorted(scopes)), erase=erase
        )
        erased = self.services.consent.withdraw(event)
        self.active -= scopes
        newly_erased = self._expect_erased(scopes) if erase else set()
        assert {e.capture_record_id for e in erased} == newly_erased

    @rule()
    def erase_person(self) -> None:
        event = ConsentWithdrawn(user_id=USER, performer_id="boss", scopes=SCOPES, erase=True)
        self.services.consent.withdraw(event)
        self.active.clear()
        self._expect_erased(set(SCOPES))

    def _expect_erased(self, scopes: set[str]) -> set[str]:
        """Mark what an erasure of `scopes` covers (store_face alone: captures with a face); returns it."""
        covered = {
            record_id
            for record_id, status in self.status.items()
            if status != "erased" and (scopes != {"store_face"} or self.face[record_id])
        }
        self.status.update(dict.fromkeys(covered, "erased"))
        return covered

    @rule(target=captures)
    def capture(self) -> str:
        record_id = str(uuid.uuid4())
        start = format_timestamp(datetime.now(UTC))
        spec = CaptureSpec(
            record_id=record_id,
            user_id=USER,
            session_id=self.session_id,
            timestamp=start,
            performer_id="carer01",
            timestamp_start=start,
            fps=FPS,
            width=32,
            height=32,
        )
        try:
            handle = self.services.captures.open(spec)
        except ConsentRequired:
            assert "capture" not in self.active
            assert record_id not in {e.record_id for e in feature_events(self.settings, USER)}
            return record_id  # never recorded: curation of it must answer "not found"
        assert "capture" in self.active
        for _ in range(FRAMES):
            handle.add_frame(JPEG)
        handle.finish(format_timestamp(parse_timestamp(start) + timedelta(seconds=FRAMES / FPS)))
        self.status[record_id] = "active"
        self.face[record_id] = "store_face" in self.active
        return record_id

    def _curate(self, event: CaptureLabeled | CaptureDiscarded | CaptureRestored, status: str | None) -> None:
        record_id = event.capture_record_id
        if record_id not in self.status:
            return  # a refused capture: the routes answer 404 before any event
        try:
            self.services.consent.curate(event)
        except CaptureErasedError:
            assert self.status[record_id] == "erased"
            return
        assert self.status[record_id] != "erased"
        if status is not None:
            self.status[record_id] = status

    def _envelope(self, record_id: str) -> dict[str, Any]:
        return {
            "user_id": USER,
            "performer_id": "carer01",
            "capture_record_id": record_id,
            "session_id": self.session_id,
        }

    @rule(record_id=captures, label=st.sampled_from(["drink", "eat", "more"]))
    def label(self, record_id: str, label: str) -> None:
        self._curate(CaptureLabeled(**self._envelope(record_id), label=label), None)

    @rule(record_id=captures)
    def discard(self, record_id: str) -> None:
        self._curate(CaptureDiscarded(**self._envelope(record_id), reason="bad take"), "discarded")

    @rule(record_id=captures)
    def restore(self, record_id: str) -> None:
        self._curate(CaptureRestored(**self._envelope(record_id)), "active")

    @invariant()
    def projection_equals_rebuild(self) -> None:
        live = self.services.projection
        live.catch_up()
        other = Projection(
            dataclasses.replace(self.settings, db_url=f"sqlite:///{self.root / 'rebuilt.sqlite3'}")
        )
        other.rebuild()
        try:
            assert rows(live.engine) == rows(other.engine)
        finally:
            other.engine.dispose()

    @invariant()
    def statuses_files_and_consent_basis(self) -> None:
        state = self.services.consent.state(USER)
        grants = {e.record_id: e for e in state.history if isinstance(e, ConsentGranted)}
        report = verify(self.settings)
        assert report.ok, report.failure_lines()
        assert sum(report.statuses.values()) == len(self.status)
        for event in feature_events(self.settings, USER):
            expected = self.status[event.record_id]
            assert state.status_of(event.record_id) == expected
            path = self.settings.data_root / event.raw_features_ref.uri  # type: ignore[union-attr]
            assert path.exists() == (expected != "erased")
            assert event.consent_record_id in grants and "capture" in grants[event.consent_record_id].scopes
            if path.exists():
                with np.load(path) as npz:
                    assert np.isnan(npz["features"][:, FACE.columns]).all() == (
                        not self.face[event.record_id]
                    )


ConsentMachine.TestCase.settings = settings(
    max_examples=10, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_consent_state_machine = ConsentMachine.TestCase
