"""Who is asking the read API: the user id the caller claims in the `X-A3CP-User-Id` header.

This is a claimed identity, not authentication: this product slice has no login, and a real
deployment puts authentication in front of the service and sets the header itself. The header lets
the read API answer each caller with their own sessions and records only (docs/projection.md).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from a3cp.schemas import FieldError
from a3cp.storage_layout import ID_PATTERN, UnsafeIdError, require_safe_id
from web.errors import RequestRejected

CALLER_HEADER = "X-A3CP-User-Id"
CALLER_PARAMETER: dict[str, Any] = {
    "name": CALLER_HEADER,
    "in": "header",
    "required": True,
    "description": "The caller's user_id (a claimed identity, not authentication): only this user's "
    "sessions and records are visible; another user's are answered 404 like unknown ones.",
    "schema": {"type": "string", "pattern": ID_PATTERN},
}
_CHALLENGE = {"WWW-Authenticate": f'{CALLER_HEADER} realm="a3cp"'}


def caller_id(request: Request) -> str:
    """The caller's user id; 401 when the header is missing, 400 when it is not a safe id."""
    value = request.headers.get(CALLER_HEADER)
    if value is None:
        message = f"the {CALLER_HEADER} header (the caller's user_id) is required"
        field = FieldError(field=CALLER_HEADER, message="missing")
        raise RequestRejected(401, "caller_required", message, [field], headers=_CHALLENGE)
    try:
        return require_safe_id(value, CALLER_HEADER)
    except UnsafeIdError as exc:
        field = FieldError(field=CALLER_HEADER, message=str(exc))
        raise RequestRejected(400, "validation_error", str(exc), [field]) from None
