"""Routes of the session manager: sessions.start, sessions.end, sessions.validate.

Each needs an account (web/access.py): start and end are captures (a carer granted the user; the recorded
performer_id is the account), validate is a read (a user without a grant answers `invalid`, exactly like
an unknown session). Every call is audited.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.accounts.policy import Action
from a3cp.schemas import (
    AuditAction,
    SessionManagerEndInput,
    SessionManagerEndOutput,
    SessionManagerStartInput,
    SessionManagerStartOutput,
    SessionValidateInput,
    SessionValidateOutput,
)
from web.access import data_request
from web.body import parse_json_body
from web.openapi import Operation

PREFIX = "/session_manager"


async def start_session(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.SESSION_START) as access:
        payload = await parse_json_body(request, SessionManagerStartInput, access.claim_performer)
        access.permit(Action.CAPTURE, payload.user_id)
        sessions = request.app.state.services.sessions
        result = await access.run(lambda: sessions.start(payload), lambda started: started.session_id)
    # 201 for the session this request created (or its retry); 200 for the person's active session.
    status_code = 201 if result.record_id == payload.record_id else 200
    return JSONResponse(result.model_dump(mode="json"), status_code=status_code)


async def end_session(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.SESSION_END) as access:
        payload = await parse_json_body(request, SessionManagerEndInput, access.claim_performer)
        access.object_id = payload.session_id
        access.permit(Action.CAPTURE, payload.user_id)
        sessions = request.app.state.services.sessions
        result = await access.run(lambda: sessions.end(payload))
    return JSONResponse(result.model_dump(mode="json"))


async def validate_session(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.READ_SESSION) as access:
        payload = await parse_json_body(request, SessionValidateInput)
        access.object_id = payload.session_id
        answer = SessionValidateOutput(status="invalid")  # what an unknown session answers
        if access.visible(payload.user_id):
            answer = SessionValidateOutput(
                status=await run_in_threadpool(
                    request.app.state.services.sessions.validate, payload.user_id, payload.session_id
                )
            )
    return JSONResponse(answer.model_dump())


routes = [
    Route(f"{PREFIX}/sessions.start", start_session, methods=["POST"]),
    Route(f"{PREFIX}/sessions.end", end_session, methods=["POST"]),
    Route(f"{PREFIX}/sessions.validate", validate_session, methods=["POST"]),
]

operations = [
    Operation(
        f"{PREFIX}/sessions.start",
        "POST",
        "Start a session (idempotent by record_id); 200 with the person's active session if they have one",
        {201: SessionManagerStartOutput, 200: SessionManagerStartOutput},
        SessionManagerStartInput,
        error_statuses=(400, 401, 403, 409, 413),
    ),
    Operation(
        f"{PREFIX}/sessions.end",
        "POST",
        "End a session (idempotent by record_id)",
        {200: SessionManagerEndOutput},
        SessionManagerEndInput,
        error_statuses=(400, 401, 403, 404, 409, 413),
    ),
    Operation(
        f"{PREFIX}/sessions.validate",
        "POST",
        "Is this session active, closed or invalid?",
        {200: SessionValidateOutput},
        SessionValidateInput,
        error_statuses=(400, 401, 403, 413),
    ),
]
