"""Domain errors: a request that cannot be applied to the current state, in domain terms only.

Each carries a stable `code`, the `field` at fault (when there is one) and a sentence. How a code is
answered on the wire (HTTP status, WebSocket close code) is the web layer's table (web/error_table.py).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base: a request that cannot be applied to the current state."""

    code = "domain_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SessionNotFound(DomainError):
    code = "session_not_found"


class RecordNotFound(DomainError):
    code = "record_not_found"


class UserNotFound(DomainError):
    """Also the answer for another user's list: the read API does not reveal who exists."""

    code = "user_not_found"


class SessionUserMismatch(DomainError):
    code = "session_user_mismatch"


class SessionAlreadyClosed(DomainError):
    code = "session_closed"


class RecordIdConflict(DomainError):
    code = "record_id_conflict"


class InvalidRequest(DomainError):
    code = "invalid_request"


class CaptureRejected(DomainError):
    """A capture breaks one of its rules (a3cp.domain.capture_policy); nothing is written."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, field)
        self.code = code
