"""The services one app instance uses, wired from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from a3cp.config import Settings
from a3cp.services.reads import ReadService
from a3cp.services.session_log import SessionLog
from a3cp.services.sessions import SessionService
from a3cp.services.timeouts import TimeoutSweeper
from projections.store import Projection

if TYPE_CHECKING:
    from a3cp.capture.remote import RemoteCaptureService
    from a3cp.services.captures import CaptureService


def capture_service(
    settings: Settings, session_log: SessionLog, reads: ReadService
) -> CaptureService | RemoteCaptureService:
    """MediaPipe in this process, or (role ingest) the forwarder to the extractor process.

    Imported lazily: the ingest role never loads MediaPipe or OpenCV (its image has neither).
    """
    if settings.role == "ingest":
        from a3cp.capture.remote import RemoteCaptureService

        return RemoteCaptureService(settings.extractor_url)
    from a3cp.services.captures import CaptureService

    return CaptureService(settings, session_log, reads.find_record)


@dataclass
class Services:
    settings: Settings
    session_log: SessionLog
    sessions: SessionService
    projection: Projection
    sweeper: TimeoutSweeper
    reads: ReadService
    captures: CaptureService | RemoteCaptureService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.ensure_roots()
        projection = Projection(settings)
        projection.upgrade()  # cheap when already at head
        session_log = SessionLog(settings, listeners=[projection.after_append])
        sweeper = TimeoutSweeper(session_log, projection, settings.session_timeout_s)
        reads = ReadService(projection, sweeper)
        return cls(
            settings=settings,
            session_log=session_log,
            sessions=SessionService(session_log, reads.find_record),
            projection=projection,
            sweeper=sweeper,
            reads=reads,
            captures=capture_service(settings, session_log, reads),
        )
