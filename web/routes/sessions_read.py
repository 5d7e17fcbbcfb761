"""Read API served from the projection: a session, a user's sessions (with captures), a record."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.schemas import RecordId, RecordLocation, SessionDetail, UserSessions
from web.errors import rejected_from_validation
from web.openapi import Operation

_RECORD_ID = TypeAdapter(RecordId)


async def get_session(request: Request) -> JSONResponse:
    found = await run_in_threadpool(
        request.app.state.services.reads.session, request.path_params["session_id"]
    )
    return JSONResponse(found.model_dump(mode="json"))


async def get_user_sessions(request: Request) -> JSONResponse:
    found = await run_in_threadpool(
        request.app.state.services.reads.user_sessions, request.path_params["user_id"]
    )
    return JSONResponse(found.model_dump(mode="json"))


async def get_record(request: Request) -> JSONResponse:
    try:
        record_id = _RECORD_ID.validate_python(request.path_params["record_id"])
    except ValidationError as exc:
        raise rejected_from_validation(exc, "record_id") from None
    found = await run_in_threadpool(request.app.state.services.reads.record, record_id)
    return JSONResponse(found.model_dump(mode="json"))


routes = [
    Route("/session_manager/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/session_manager/users/{user_id}/sessions", get_user_sessions, methods=["GET"]),
    Route("/records/{record_id}", get_record, methods=["GET"]),
]

operations = [
    Operation(
        "/session_manager/sessions/{session_id}",
        "GET",
        "A session as projected from its log, with its captures",
        {200: SessionDetail},
        path_params=("session_id",),
    ),
    Operation(
        "/session_manager/users/{user_id}/sessions",
        "GET",
        "A user's sessions, oldest first, each with its captures (T, D, hash, quality)",
        {200: UserSessions},
        path_params=("user_id",),
        error_statuses=(400,),
    ),
    Operation(
        "/records/{record_id}",
        "GET",
        "Where a record_id was logged (log, offset, position) and its feature file, if any",
        {200: RecordLocation},
        path_params=("record_id",),
    ),
]
