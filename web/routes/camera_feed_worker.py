"""`POST /camera_feed_worker/captures`: one bounded capture as multipart/form-data.

Parts: `meta` (JSON, first), then one `frame` part per frame (JPEG or PNG) in capture order. The body
is parsed as it streams in; each frame goes to the capture pipeline as soon as it has arrived, so
extraction runs while the upload continues and the body is never held whole. Frames stay in memory.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.config import MAX_CAPTURE_BYTES, MAX_FRAME_BYTES, MAX_JSON_BODY_BYTES
from a3cp.schemas import CaptureCreated, CaptureMeta, FieldError
from web.errors import RequestRejected, rejected_from_validation
from web.multipart_stream import stream_parts
from web.openapi import Operation

PATH = "/camera_feed_worker/captures"


def _part_limit(name: str) -> int:
    return MAX_JSON_BODY_BYTES if name == "meta" else MAX_FRAME_BYTES


def _rejected(field: str, message: str) -> RequestRejected:
    return RequestRejected(400, "validation_error", message, [FieldError(field=field, message=message)])


def parse_meta(raw: bytes) -> CaptureMeta:
    """The `meta` part as a CaptureMeta; 400 naming `meta.<field>` for each problem."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _rejected("meta", "meta is not valid JSON") from None
    if not isinstance(data, dict):
        raise _rejected("meta", "meta must be a JSON object")
    try:
        return CaptureMeta.model_validate(data)
    except ValidationError as exc:
        raise rejected_from_validation(exc, prefix="meta") from None


async def create_capture(request: Request) -> JSONResponse:
    captures = request.app.state.services.captures
    capture = None
    try:
        async for name, data in stream_parts(request, MAX_CAPTURE_BYTES, _part_limit):
            if capture is None:
                if name != "meta":
                    raise _rejected("meta", "the first part must be `meta`")
                capture = await captures.open_async(parse_meta(data))
            elif name == "frame":
                await capture.push(data)
            else:
                raise _rejected(name or "body", f"unexpected part {name!r}; expected `frame`")
        if capture is None:
            raise _rejected("meta", "the `meta` part is missing")
        body = await capture.finish()
    finally:
        if capture is not None:
            await capture.abort()
    return JSONResponse(body, status_code=201)


routes = [Route(PATH, create_capture, methods=["POST"])]

operations = [
    Operation(
        PATH,
        "POST",
        "Record one bounded gesture capture (meta JSON part + frame parts) as landmark features",
        {201: CaptureCreated},
        request_content_type="multipart/form-data",
        request_schema={
            "type": "object",
            "required": ["meta", "frame"],
            "additionalProperties": False,  # any other part is refused
            "properties": {"frame": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        },
        json_parts=(("meta", CaptureMeta),),
        error_statuses=(400, 404, 409, 413, 415),
    )
]
