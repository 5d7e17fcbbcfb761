"""Domain errors, each with the HTTP status and field the web layer reports."""

from __future__ import annotations


class DomainError(Exception):
    """Base: a request that cannot be applied to the current state."""

    status_code = 400
    code = "domain_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SessionNotFound(DomainError):
    status_code = 404
    code = "session_not_found"


class RecordNotFound(DomainError):
    status_code = 404
    code = "record_not_found"


class UserNotFound(DomainError):
    """Also the answer for another user's list: the read API does not reveal who exists."""

    status_code = 404
    code = "user_not_found"


class ProjectionUnavailable(DomainError):
    """The read model (SQLite/PostgreSQL projection) cannot answer right now; the logs are intact."""

    status_code = 503
    code = "projection_unavailable"


class SessionUserMismatch(DomainError):
    status_code = 400
    code = "session_user_mismatch"


class SessionAlreadyClosed(DomainError):
    status_code = 409
    code = "session_closed"


class RecordIdConflict(DomainError):
    status_code = 409
    code = "record_id_conflict"


class InvalidRequest(DomainError):
    status_code = 400
    code = "invalid_request"
