"""`POST /camera_feed_worker/captures`: one bounded capture as multipart/form-data.

Parts: `meta` (JSON, first), then one `frame` part per frame (JPEG or PNG) in capture order. The body
is parsed as it streams in; each frame goes to the capture pipeline as soon as it has arrived, so
extraction runs while the upload continues and the body is never held whole. Frames stay in memory.
The account must be a carer granted the meta's user_id (403 otherwise, before any frame is taken); the
recorded performer_id is the account. Every upload is audited.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.accounts.policy import Action
from a3cp.schemas import AuditAction, CaptureCreated, CaptureMeta, CaptureSpec
from web.access import data_request
from web.capture_ingest import Admission, PartGrammar, ingest_capture
from web.openapi import Operation

PATH = "/camera_feed_worker/captures"
GRAMMAR = PartGrammar(opening="meta", spec_model=CaptureMeta)


async def create_capture(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.CAPTURE) as access:

        def admit(spec: CaptureSpec) -> None:
            access.object_id = spec.record_id
            access.permit(Action.CAPTURE, spec.user_id)

        admission = Admission(prepare=access.claim_performer, admit=admit)
        body = await ingest_capture(request, GRAMMAR, request.app.state.services.captures, admission)
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
        error_statuses=(400, 401, 403, 404, 409, 413, 415),
    )
]
