"""The JSON body of every error response (a stable code, a sentence, the fields at fault, and the
sentence again as `detail`), and the served contract that lists every code with its words."""

from __future__ import annotations

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    error: str
    message: str
    fields: list[FieldError] = []
    # The message again, under the name upstream A3CP's browser client shows (`err.detail`).
    detail: str

    @classmethod
    def of(cls, error: str, message: str, fields: list[FieldError] | None = None) -> ErrorResponse:
        return cls(error=error, message=message, fields=fields or [], detail=message)


class ErrorCodeContract(BaseModel):
    """How one error code is answered: HTTP status, WebSocket close code (and abort name), words."""

    http_status: int | None
    ws_close: int | None
    ws_code: str | None = None
    words: str


class ClientContract(BaseModel):
    """`GET /contract.json`: what a client must know of the server (the browser reads it, never a copy)."""

    schema_version: str
    limits: dict[str, int | float]
    errors: dict[str, ErrorCodeContract]
