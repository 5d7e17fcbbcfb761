"""Read API served from the projection: a session, a user's sessions (with captures), a record.

Every read needs an account (cookie or API token, web/access.py) and sees only the users granted to it:
another user's session, list or record is answered exactly like an unknown one (404). Every read is audited.
"""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.schemas import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    AuditAction,
    RecordId,
    RecordLocation,
    SessionDetail,
    SessionsPageQuery,
    UserSessions,
)
from web.access import data_request
from web.errors import rejected_from_validation
from web.openapi import Operation

_RECORD_ID = TypeAdapter(RecordId)
READ_ERRORS = (400, 401, 403, 404, 503)  # bad id, no account, cross-site, not found or not granted, down
# The list's query parameters, as SessionsPageQuery parses them.
PAGE_PARAMETERS = (
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_LIMIT, "default": DEFAULT_PAGE_LIMIT},
    },
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
)


def record_id_param(request: Request) -> str:
    """The `record_id` path parameter in canonical UUIDv4 form, or a 400 naming it."""
    try:
        return _RECORD_ID.validate_python(request.path_params["record_id"])
    except ValidationError as exc:
        raise rejected_from_validation(exc, "record_id") from None


async def get_session(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.READ_SESSION) as access:
        access.object_id = session_id = request.path_params["session_id"]
        reads = request.app.state.services.reads
        found = await run_in_threadpool(reads.session, session_id, access.visible)
    return JSONResponse(found.model_dump(mode="json"))


def page_query(request: Request) -> SessionsPageQuery:
    """`limit` and `cursor` of a list request, or a 400 naming the one that is wrong."""
    try:
        return SessionsPageQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise rejected_from_validation(exc) from None


async def get_user_sessions(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.READ_USER_SESSIONS) as access:
        page = page_query(request)
        reads = request.app.state.services.reads
        user_id = request.path_params["user_id"]
        found = await run_in_threadpool(reads.user_sessions, user_id, access.visible, page)
    if found.next_cursor is not None:
        query = urlencode({"limit": page.limit, "cursor": found.next_cursor})
        found = found.model_copy(update={"next": f"{request.url.path}?{query}"})
    return JSONResponse(found.model_dump(mode="json"))


async def get_record(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.READ_RECORD) as access:
        access.object_id = record_id = record_id_param(request)
        found = await run_in_threadpool(request.app.state.services.reads.record, record_id, access.visible)
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
        "A granted user's session as projected from its log, with its captures",
        {200: SessionDetail},
        path_params=("session_id",),
        error_statuses=READ_ERRORS,
    ),
    Operation(
        "/session_manager/users/{user_id}/sessions",
        "GET",
        "One page of a granted user's sessions, oldest first, with captures",
        {200: UserSessions},
        path_params=("user_id",),
        header_params=PAGE_PARAMETERS,
        error_statuses=READ_ERRORS,
    ),
    Operation(
        "/records/{record_id}",
        "GET",
        "Where a granted user's record_id was logged (log, offset, position) and its feature file",
        {200: RecordLocation},
        path_params=("record_id",),
        error_statuses=READ_ERRORS,
    ),
]
