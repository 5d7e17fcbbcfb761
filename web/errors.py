"""Turn every failure into a JSON error body (`ErrorResponse`); never a stack trace.

Domain errors and faults carry a code only; its HTTP status comes from the error table
(web/error_table.py). Requests refused by the web layer itself carry their status.
"""

from __future__ import annotations

import errno
import logging

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from a3cp.domain.errors import DomainError
from a3cp.faults import Fault
from a3cp.schemas import ErrorResponse, FieldError
from a3cp.storage_layout import UnsafeIdError
from web.error_table import http_status

logger = logging.getLogger("a3cp.web")


class RequestRejected(Exception):
    """A request refused before it reached the domain (bad body, too large, wrong type)."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        fields: list[FieldError],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse.of(code, message, fields)
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def validation_fields(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """One FieldError per pydantic error, named by its dotted location."""
    fields = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"])
        name = f"{prefix}.{location}" if prefix and location else (prefix or location or "body")
        fields.append(FieldError(field=name, message=error["msg"]))
    return fields


def rejected_from_validation(exc: ValidationError, prefix: str = "") -> RequestRejected:
    fields = validation_fields(exc, prefix)
    names = ", ".join(sorted({f.field for f in fields}))
    return RequestRejected(400, "validation_error", f"invalid fields: {names}", fields)


async def _on_rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestRejected)
    return error_response(exc.status_code, exc.code, exc.message, exc.fields, exc.headers)


async def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    fields = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
    return error_response(http_status(exc.code), exc.code, exc.message, fields)


async def _on_fault(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Fault)
    logger.warning("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.message)
    retry = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
    return error_response(http_status(exc.code), exc.code, exc.message, headers=retry)


async def _on_unsafe_id(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnsafeIdError)
    return error_response(400, "validation_error", str(exc), [FieldError(field=exc.field, message=str(exc))])


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, "http_error", str(exc.detail))


STORAGE_FULL = (errno.ENOSPC, errno.EDQUOT)  # answered `insufficient_storage` on both transports


async def _on_os_error(request: Request, exc: Exception) -> JSONResponse:
    """Storage failures: 507 when the disk is full (the log is left as it was), else 500."""
    assert isinstance(exc, OSError)
    logger.error("storage error on %s %s: %s", request.method, request.url.path, exc)
    if exc.errno in STORAGE_FULL:
        return error_response(507, "insufficient_storage", "no space left to record the request; retry later")
    return error_response(500, "storage_error", "the server could not record the request")


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "the server could not complete the request")


EXCEPTION_HANDLERS = {
    RequestRejected: _on_rejected,
    DomainError: _on_domain,
    Fault: _on_fault,
    UnsafeIdError: _on_unsafe_id,
    HTTPException: _on_http,
    OSError: _on_os_error,  # handled here, not by the catch-all, so it is not re-raised by Starlette
    Exception: _on_unexpected,
}
