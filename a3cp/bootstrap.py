"""The composition root: builds one process's settings-bound parts (layout, recorder, projection,
services) in one place, for the web app, the CLI and the benchmarks alike."""

from __future__ import annotations

from dataclasses import dataclass

from a3cp.capture.pipeline import CapturePipeline
from a3cp.config import Settings
from a3cp.services.consent import ConsentService
from a3cp.services.reads import ReadService
from a3cp.services.recognition import RecognitionService
from a3cp.services.session_log import SessionLog
from a3cp.services.sessions import SessionService
from a3cp.services.timeouts import TimeoutSweeper
from a3cp.storage_layout import StorageLayout
from eventstore import FileLogStore
from projections.store import Projection


def capture_service(
    settings: Settings, session_log: SessionLog, reads: ReadService, consent: ConsentService
) -> CapturePipeline:
    """MediaPipe in this process, or (role ingest) the forwarder to the extractor process.

    Imported lazily: the ingest role never loads MediaPipe or OpenCV (its image has neither).
    """
    if settings.role == "ingest":
        from a3cp.capture.remote import RemoteCaptureService

        return RemoteCaptureService(settings.extractor_url)
    from a3cp.services.captures import CaptureService

    return CaptureService(settings, session_log, reads.find_record, consent)


def projection_for(settings: Settings) -> Projection:
    """The projection of `settings`' logs (roots created; schema not yet upgraded)."""
    layout = StorageLayout(settings)
    layout.ensure_roots()
    return Projection(settings, store=FileLogStore(layout))


@dataclass
class Services:
    """Everything one app instance (or one CLI command) uses, wired from Settings."""

    settings: Settings
    session_log: SessionLog
    sessions: SessionService
    projection: Projection
    sweeper: TimeoutSweeper
    reads: ReadService
    captures: CapturePipeline
    consent: ConsentService
    recognition: RecognitionService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        projection = projection_for(settings)
        projection.upgrade()  # cheap when already at head
        session_log = SessionLog(projection.store, listeners=[projection.after_append])
        sweeper = TimeoutSweeper(session_log, projection, settings.session_timeout_s)
        reads = ReadService(projection, sweeper)
        consent = ConsentService(settings, listeners=[projection.after_stream_append])
        consent.resume_erasures()  # docs/privacy.md: an erasure a crash interrupted is finished at start
        return cls(
            settings=settings,
            session_log=session_log,
            sessions=SessionService(session_log, reads.find_record, reads.active_sessions),
            projection=projection,
            sweeper=sweeper,
            reads=reads,
            captures=capture_service(settings, session_log, reads, consent),
            consent=consent,
            recognition=RecognitionService(settings, reads, consent),
        )
