"""`POST /internal/extractor/captures`: the extractor role's end of a forwarded capture (split mode).

Ingest (a3cp.capture.remote) streams one capture per request as multipart/form-data: a `spec` part
(CaptureSpec JSON), then per frame an optional `timestamp_ms` part and the `frame` part, then a
`finish` part (`{"timestamp_end": ...}`). The body is parsed with the public capture endpoint's
streaming parser and fed to this process's capture pipeline (MediaPipe) as it arrives; the file and
the one event are recorded only after the whole body, `finish` included, has arrived, so a dropped
connection records nothing. On an error the rest of the body is read and discarded before the
answer, so ingest (still sending) receives the answer instead of a reset connection.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message

from a3cp.capture.remote import EXTRACTOR_PATH
from a3cp.config import MAX_CAPTURE_BYTES, MAX_FRAME_BYTES, MAX_JSON_BODY_BYTES
from a3cp.schemas import CaptureCreated, CaptureSpec, FieldError
from web.errors import RequestRejected, rejected_from_validation
from web.multipart_stream import stream_parts
from web.openapi import Operation

PATH = EXTRACTOR_PATH  # one definition, shared with the forwarding side


def _part_limit(name: str) -> int:
    return MAX_FRAME_BYTES if name == "frame" else MAX_JSON_BODY_BYTES


def _rejected(field: str, message: str) -> RequestRejected:
    return RequestRejected(400, "validation_error", message, [FieldError(field=field, message=message)])


def _json_part(name: str, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _rejected(name, f"{name} is not valid JSON") from None


def _spec(raw: bytes) -> CaptureSpec:
    try:
        return CaptureSpec.model_validate(_json_part("spec", raw))
    except ValidationError as exc:
        raise rejected_from_validation(exc, prefix="spec") from None


def _timestamp_ms(raw: bytes) -> int:
    text = raw.decode("ascii", errors="replace")
    if not text.isascii() or not text.isdigit():
        raise _rejected("timestamp_ms", "timestamp_ms must be epoch milliseconds")
    return int(text)


class _TrackedBody:
    """The request's receive channel, noting when the body has ended (or the peer left)."""

    def __init__(self, request: Request) -> None:
        self._receive = request.receive
        self.ended = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.ended = True
        return message

    async def drain(self) -> None:
        """Read what is left of the body (bounded by the ingest's caps) so the answer is delivered."""
        while not self.ended:
            await self.receive()


async def extract_capture(request: Request) -> JSONResponse:
    body_channel = _TrackedBody(request)
    capture = None
    try:
        timestamp: int | None = None
        end: dict[str, Any] | None = None
        parts = stream_parts(Request(request.scope, body_channel.receive), MAX_CAPTURE_BYTES, _part_limit)
        async for name, data in parts:
            if capture is None:
                if name != "spec":
                    raise _rejected("spec", "the first part must be `spec`")
                capture = await request.app.state.services.captures.open_async(_spec(data))
            elif name == "timestamp_ms" and end is None:
                timestamp = _timestamp_ms(data)
            elif name == "frame" and end is None:
                await capture.push(data, timestamp)
                timestamp = None
            elif name == "finish" and end is None:
                end = _json_part("finish", data)
            else:
                raise _rejected(name or "body", f"unexpected part {name!r}")
        if capture is None or not isinstance(end, dict):
            raise _rejected("finish", "the capture ended without its `finish` part")
        body = await capture.finish(end.get("timestamp_end"))
    except Exception:
        await body_channel.drain()
        raise
    finally:
        if capture is not None:
            await capture.abort()
    return JSONResponse(body, status_code=201)


routes = [Route(PATH, extract_capture, methods=["POST"])]

operations = [
    Operation(
        PATH,
        "POST",
        "Internal (split mode): extract and record one capture forwarded by the ingest role",
        {201: CaptureCreated},
        request_content_type="multipart/form-data",
        request_schema={
            "type": "object",
            "required": ["spec", "frame", "finish"],
            "properties": {
                "spec": {"type": "string", "description": "CaptureSpec as JSON"},
                "timestamp_ms": {"type": "array", "items": {"type": "integer"}},
                "frame": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "finish": {"type": "string", "description": 'JSON {"timestamp_end": ...}'},
            },
        },
        error_statuses=(400, 404, 409, 413, 415),
    )
]
