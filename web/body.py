"""Read a JSON request body under a byte cap; turn JSON bytes (a body or a multipart part) into a model.

Every JSON the server reads (bodies, multipart parts, WebSocket messages) goes through `load_json`: an
integer literal too long for Python to convert becomes an infinite number instead of a parse error, so
the model's validation refuses it naming the field it was given for (never a 500, never just "bad JSON").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from a3cp.config import MAX_JSON_BODY_BYTES
from a3cp.schemas import FieldError
from web.errors import RequestRejected, rejected_from_validation

ModelT = TypeVar("ModelT", bound=BaseModel)
# Applied to the raw JSON object before validation (e.g. the performer_id the account implies).
Prepare = Callable[[dict[str, Any]], dict[str, Any]]


def too_large(limit: int) -> RequestRejected:
    return RequestRejected(
        413,
        "payload_too_large",
        f"request body exceeds {limit} bytes",
        [FieldError(field="body", message=f"at most {limit} bytes")],
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it (or its declared length) passes `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


MAX_INT_DIGITS = 4000  # below Python's int-from-text limit (4300); no field holds anything near as long


def _int_or_infinite(text: str) -> int | float:
    if len(text) > MAX_INT_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def load_json(raw: bytes | str) -> Any:
    """JSON text as Python data; ValueError or RecursionError when it is not JSON."""
    return json.loads(raw, parse_int=_int_or_infinite)


def json_object(raw: bytes, field: str = "body") -> dict[str, Any]:
    """`raw` as a JSON object; 400 naming `field` when it is not valid JSON or not an object."""
    what = "request body" if field == "body" else field
    try:
        data = load_json(raw)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 and bad JSON; RecursionError covers hostile nesting ("[[[[...").
        # Both are the client's fault.
        raise RequestRejected(
            400, "invalid_json", f"{what} is not valid JSON", [FieldError(field=field, message=str(exc))]
        ) from None
    if not isinstance(data, dict):
        raise RequestRejected(
            400,
            "validation_error",
            f"{what} must be a JSON object",
            [FieldError(field=field, message="expected a JSON object")],
        )
    return data


def parse_json(
    raw: bytes, model: type[ModelT], field: str = "body", prepare: Prepare | None = None
) -> ModelT:
    """Validate JSON bytes (after `prepare`) into `model`; 400 naming each bad field (prefixed `field.`
    for a part)."""
    data = json_object(raw, field)
    if prepare is not None:
        data = prepare(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise rejected_from_validation(exc, prefix="" if field == "body" else field) from None


async def parse_json_body(request: Request, model: type[ModelT], prepare: Prepare | None = None) -> ModelT:
    """Validate the JSON body (after `prepare`) into `model`; 400 naming each bad field, 413 if too large."""
    return parse_json(await read_capped(request, MAX_JSON_BODY_BYTES), model, prepare=prepare)
