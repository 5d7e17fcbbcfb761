"""The capture service: open a bounded capture, stream its frames through Holistic, record it once.

`CaptureService.open` checks everything that is cheap (the capture policy's declared rules, session active
for that user, record_id unused), then takes an extraction slot (a3cp.capture.admission: over capacity
the capture is refused before any graph or buffer exists). A `CaptureHandle` then admits each frame
through the capture policy (a3cp.domain.capture_policy), decodes and tracks it (the Holistic graph is
built at the first frame, so an idle open costs no graph) and, on `finish`, reserves the record_id
(a3cp.capture.reservation: one record_id is recorded once across sessions, users and processes), writes
the feature file and appends the single `capture.features` event under optimistic concurrency (so a
capture never lands after the session's end). Any failure leaves no file and no event, and the slot is
given back however the capture ends. `AsyncCapture` runs a handle in its own worker thread
behind a small bounded queue, for the HTTP and WebSocket transports alike; `CaptureService` implements
a3cp.capture.pipeline.CapturePipeline."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import a3cp
from a3cp.capture.admission import Admission, Slot
from a3cp.capture.artifact import Artifact, encode_npz, remove_artifact, write_artifact
from a3cp.capture.frames import decode_frame
from a3cp.capture.pipeline import LatestFrame, epoch_ms, timestamp_text
from a3cp.capture.reservation import Owner, reserve
from a3cp.config import CAPACITY_RETRY_AFTER_S, Settings
from a3cp.domain.capture import encoding_tag, epoch_ms_of, feature_event, policy_for
from a3cp.domain.capture_policy import CapturePolicy
from a3cp.domain.consent import UNENFORCED, CaptureBasis, capture_basis, without_face
from a3cp.domain.errors import RecordIdConflict
from a3cp.domain.events import Append, Decision
from a3cp.domain.session import SessionState, require_active
from a3cp.landmarks.holistic import MEDIAPIPE_VERSION, HolisticTracker
from a3cp.landmarks.layout import FEATURE_DIM, detection_fractions
from a3cp.schemas import CaptureCreated, CaptureSpec, RawFeaturesRef, utc_now
from a3cp.services.consent import ConsentService
from a3cp.services.session_log import SessionLog
from a3cp.storage_layout import StorageLayout

RecordLookup = Callable[[str], object | None]
FRAME_QUEUE = 8  # frames waiting for the extractor thread before the transport must wait


def _record_id_taken() -> RecordIdConflict:
    return RecordIdConflict("record_id was already used", "record_id")


def _check_unused(state: SessionState, record_id: str) -> None:
    if record_id in state.events_by_record_id:
        raise _record_id_taken()


class CaptureHandle:
    """One capture in progress. Not thread-safe: one thread feeds it (see AsyncCapture)."""

    def __init__(
        self,
        spec: CaptureSpec,
        policy: CapturePolicy,
        settings: Settings,
        session_log: SessionLog,
        slot: Slot,
        basis: CaptureBasis = UNENFORCED,
    ) -> None:
        self.spec = spec
        self.basis = basis
        self._settings = settings
        self._session_log = session_log
        self._policy = policy
        self._slot: Slot | None = slot
        self._rows: list[npt.NDArray[np.float32]] = []
        self._tracker: HolisticTracker | None = None
        # Replaced whole by the tracking thread, read by the event loop (the live preview): one reference.
        self.latest: LatestFrame | None = None

    def add_frame(self, image: bytes, timestamp_ms: int | None = None) -> None:
        """Decode one JPEG/PNG frame in memory and track it; CaptureRejected names the frame."""
        if self._slot is None:
            raise RuntimeError("capture is closed")
        index = self._policy.frames
        self._policy.admit(timestamp_ms=timestamp_ms, byte_length=len(image))
        rgb = decode_frame(image, index, self.spec.width, self.spec.height)
        if self._tracker is None:
            self._tracker = HolisticTracker()
        row = self._tracker.features(rgb)
        self._rows.append(row)
        self.latest = (index, row)

    def finish(self, timestamp_end: str | None = None) -> CaptureCreated:
        """Final checks, then the feature file and the one event; returns the 201 body."""
        try:
            self._policy.close(epoch_ms_of(timestamp_end) if timestamp_end is not None else None)
            end = timestamp_end or self.spec.timestamp_end
            assert end is not None  # the policy refuses a capture without one
            features = np.stack(self._rows).astype(np.float32, copy=False)
            timestamps = np.asarray(self._policy.timestamps_ms, dtype=np.int64)
            return self._record(features, timestamps, end)
        finally:
            self.abort()

    def abort(self) -> None:
        """Release the tracker and the slot; nothing is written."""
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None
        self._rows.clear()
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    def _record(
        self, features: npt.NDArray[np.float32], timestamps: npt.NDArray[np.int64], timestamp_end: str
    ) -> CaptureCreated:
        spec = self.spec
        layout = StorageLayout(self._settings)
        directory = layout.features_dir(spec.user_id, spec.session_id, create=True)
        if not self.basis.store_face:  # docs/privacy.md: without `store_face` the face is never written
            features = without_face(features)
        quality: dict[str, float | bool] = dict(detection_fractions(features))
        if not self.basis.store_face:
            quality["face_stored"] = False
        payload = encode_npz(features, timestamps)
        marker = layout.record_marker(spec.record_id, create_dir=True)
        with reserve(marker, Owner(spec.user_id, spec.session_id), self._recorded_in):
            # Held: a racer with this record_id anywhere waits here, then gets its 409 having written
            # nothing. An event of this session naming it (a log older than markers) is a conflict too,
            # and with none, a file already at the name is an orphan that may be replaced.
            _check_unused(self._session_log.load(spec.user_id, spec.session_id), spec.record_id)
            artifact = write_artifact(directory, spec.record_id, payload)
            reference = self._reference(artifact, features.shape[0])

            def decide(state: SessionState) -> Decision:
                require_active(state)
                _check_unused(state, spec.record_id)
                basis = self.basis
                event = feature_event(
                    spec,
                    timestamp_end,
                    reference,
                    quality,
                    utc_now(),
                    basis.consent_record_id,
                    basis.consent_position,
                )
                return Append(event)

            try:
                self._session_log.decide_and_append(spec.user_id, spec.session_id, decide)
            except BaseException:
                remove_artifact(artifact)
                raise
        return CaptureCreated(
            record_id=spec.record_id,
            capture_id=spec.capture_id or spec.record_id,
            session_id=spec.session_id,
            user_id=spec.user_id,
            T=features.shape[0],
            D=FEATURE_DIM,
            raw_features_ref=RawFeaturesRef.model_validate(reference),
            quality=quality,
        )

    def _recorded_in(self, owner: Owner) -> bool:
        """Whether `owner`'s log holds this capture's record_id (a reservation's owner finished)."""
        state = self._session_log.load(owner.user_id, owner.session_id)
        return self.spec.record_id in state.events_by_record_id

    def _reference(self, artifact: Artifact, frames: int) -> dict[str, Any]:
        return {
            "uri": artifact.path.relative_to(self._settings.data_root).as_posix(),
            "hash": artifact.digest,
            "encoding": encoding_tag(self.spec.fps, a3cp.__version__, MEDIAPIPE_VERSION),
            "dims": FEATURE_DIM,
            "shape": [frames, FEATURE_DIM],
            "dtype": "float32",
            "format": "npz",
        }


class CaptureService:
    """Opens captures after the cheap checks; `find_record` looks a record_id up across all logs."""

    def __init__(
        self,
        settings: Settings,
        session_log: SessionLog,
        find_record: RecordLookup,
        consent: ConsentService | None = None,
    ) -> None:
        self.settings = settings
        self.session_log = session_log
        self.find_record = find_record
        self.admission = Admission(settings.capture_capacity, CAPACITY_RETRY_AFTER_S)
        self.consent = consent or ConsentService(settings)

    def open(self, spec: CaptureSpec) -> CaptureHandle:
        """The checks, then a slot (CapacityExhausted when none is free); no graph, no buffer yet."""
        policy = policy_for(spec)
        state = self.session_log.load_existing(spec.user_id, spec.session_id)
        require_active(state)
        _check_unused(state, spec.record_id)
        if self.find_record(spec.record_id) is not None:
            raise _record_id_taken()
        basis = self.basis_for(spec.user_id)  # before a slot is taken: a refusal holds no capacity
        return CaptureHandle(spec, policy, self.settings, self.session_log, self.admission.admit(), basis)

    def basis_for(self, user_id: str) -> CaptureBasis:
        """The consent a capture for `user_id` is taken under; ConsentRequired (nothing written) without."""
        if not self.settings.consent_required:
            return UNENFORCED
        return capture_basis(self.consent.state(user_id), utc_now())

    async def open_async(self, spec: CaptureSpec) -> AsyncCapture:
        """Open a capture whose frames are tracked in a worker thread (see AsyncCapture)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture")
        loop = asyncio.get_running_loop()
        try:
            handle = await loop.run_in_executor(executor, self.open, spec)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return AsyncCapture(handle, executor)


class AsyncCapture:
    """A capture fed from the event loop: frames queue (at most FRAME_QUEUE) for one worker thread,
    which decodes and tracks them while more arrive. Errors surface on the next push or on finish."""

    def __init__(self, handle: CaptureHandle, executor: ThreadPoolExecutor) -> None:
        self.handle = handle
        self._executor = executor
        self._pending: deque[Future[None]] = deque()
        self._closed = False

    async def push(self, image: bytes, timestamp: datetime | int | None = None) -> None:
        """Queue a frame; waits while the queue is full; raises the first frame error seen."""
        self._raise_failed()
        if len(self._pending) >= FRAME_QUEUE:
            await asyncio.wrap_future(self._pending.popleft())
        self._pending.append(self._executor.submit(self.handle.add_frame, image, epoch_ms(timestamp)))

    async def finish(self, timestamp_end: datetime | str | None = None) -> dict[str, Any]:
        """Wait for every frame, then record the capture; returns the 201 body as JSON data."""
        end = timestamp_text(timestamp_end)
        try:
            while self._pending:
                await asyncio.wrap_future(self._pending.popleft())
            created = await asyncio.wrap_future(self._executor.submit(self.handle.finish, end))
            return created.model_dump(mode="json")
        finally:
            await self.abort()

    async def abort(self) -> None:
        """Drop the capture: queued frames are cancelled, the tracker released, nothing written."""
        if self._closed:
            return
        self._closed = True
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        await asyncio.wrap_future(self._executor.submit(self.handle.abort))
        self._executor.shutdown(wait=False)

    def latest_frame(self) -> LatestFrame | None:
        """The newest frame tracked so far (for the live preview)."""
        return self.handle.latest

    def _raise_failed(self) -> None:
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()
