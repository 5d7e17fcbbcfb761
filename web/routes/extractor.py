"""`POST /internal/extractor/captures`: the extractor role's end of a forwarded capture (split mode).

Ingest (a3cp.capture.remote) streams one capture per request as multipart/form-data: a `spec` part
(CaptureSpec JSON), then per frame an optional `timestamp_ms` part and the `frame` part, then a `finish`
part (`{"timestamp_end": ...}`). The body is parsed by the one capture ingest parser (web.capture_ingest)
with this route's grammar and fed to this process's capture pipeline (MediaPipe, which applies the same
capture policy as ingest did) as it arrives; the file and the one event are recorded only after the whole
body, `finish` included, has arrived, so a dropped connection records nothing. On an error the rest of the
body is read and discarded before the answer, so ingest (still sending) receives the answer instead of a
reset connection."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.capture.remote import EXTRACTOR_PATH
from a3cp.schemas import CaptureCreated, CaptureSpec
from web.capture_ingest import PartGrammar, ingest_capture
from web.openapi import Operation

PATH = EXTRACTOR_PATH  # one definition, shared with the forwarding side
GRAMMAR = PartGrammar(
    opening="spec", spec_model=CaptureSpec, frame_time="timestamp_ms", closing="finish", drain_on_error=True
)


async def extract_capture(request: Request) -> JSONResponse:
    body = await ingest_capture(request, GRAMMAR, request.app.state.services.captures)
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
