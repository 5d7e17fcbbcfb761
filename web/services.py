"""The services one app instance uses, wired from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from a3cp.config import Settings
from a3cp.services.session_log import SessionLog
from a3cp.services.sessions import SessionService


@dataclass
class Services:
    settings: Settings
    session_log: SessionLog
    sessions: SessionService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.ensure_roots()
        session_log = SessionLog(settings)
        return cls(settings=settings, session_log=session_log, sessions=SessionService(session_log))
