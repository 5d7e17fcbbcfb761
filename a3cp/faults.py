"""Infrastructure faults: the request was fine, a part of the system around it was not.

Not domain errors (nothing the client did or could fix by changing the request); the web layer's
error table gives each its HTTP status and WebSocket close code like any other code.
"""

from __future__ import annotations


class Fault(Exception):
    """Base: a dependency (read model, extractor process, ...) cannot serve the request right now."""

    code = "fault"
    retry_after_s: int | None = None  # when set, the answer tells the client to retry after this long

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProjectionUnavailable(Fault):
    """The read model (SQLite/PostgreSQL projection) cannot answer right now; the logs are intact."""

    code = "projection_unavailable"


class ExtractorUnavailable(Fault):
    """The extractor could not be reached or went away mid-capture (recorded nothing, docs/deployment.md)."""

    code = "extractor_unavailable"


class CapacityExhausted(Fault):
    """Every extraction slot is busy (a3cp.capture.admission); the capture was refused at open."""

    code = "capacity_exhausted"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ExtractionBehind(Fault):
    """A capture's frames arrived faster than they could be extracted, past the backlog bound."""

    code = "extraction_behind"
    retry_after_s = 2
