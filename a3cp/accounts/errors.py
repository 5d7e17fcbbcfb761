"""Why an account operation was refused, in domain terms (the web layer picks the answer)."""

from __future__ import annotations


class AccountError(Exception):
    """Base: an account operation that cannot be applied; `field` names the input at fault."""

    code = "account_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AccountExists(AccountError):
    code = "account_exists"


class AccountNotFound(AccountError):
    code = "account_not_found"


class TokenNotFound(AccountError):
    code = "token_not_found"


class LoginSessionNotFound(AccountError):
    """A login session (not a capture session) that is unknown or already ended."""

    code = "login_session_not_found"


class WeakPassword(AccountError):
    code = "weak_password"


class InvalidCredentials(AccountError):
    """Wrong name or password, or a disabled account: one answer for all, so none can be told apart."""

    code = "invalid_credentials"


class SetupUnavailable(AccountError):
    """The first-run setup link is unknown, used, expired, or an account already exists."""

    code = "setup_unavailable"


class Throttled(AccountError):
    """Too many failed logins for this account or client address; retry after `retry_after_s`."""

    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s
