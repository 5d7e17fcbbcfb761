"""Dataset export routes (docs/export.md): `POST /exports` runs an export into
`<DATA_ROOT>/exports/<export_id>/` and answers with its manifest (with `Accept: application/x-ndjson`,
first one progress line per capture written), `GET /exports/{export_id}` streams it
as one tar (its maker, while still allowed to export every user in it, or an admin), `GET /exports` lists
the exports the account may download, `DELETE /exports/{export_id}` deletes one from the server. An export
whose people no longer allow it to be held (a3cp.export.retention) is deleted before any of these
answers, so it is never listed or served again.

Who may export: a researcher the users granted to them (an ungranted user named in `users` answers 404
like a missing one), an admin every user, a carer nobody (403). Every request is audited before its
answer: an export as one record per exported user (object_id the export id, details its format,
filters, captures and users), which is also what the listing reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from a3cp.accounts.policy import Decision, Principal, Role, authorize_export
from a3cp.domain.errors import DomainError, UserNotFound
from a3cp.export.archive import ARCHIVE_MEDIA_TYPE, stream_archive
from a3cp.export.retention import delete_export, retire_stale
from a3cp.export.service import ExportOutcome, ExportPlan, Progress, plan_export, record_export, write_export
from a3cp.schemas import (
    AuditAction,
    ErrorResponse,
    ExportCreated,
    ExportDeleted,
    ExportListing,
    ExportProgress,
    ExportRequest,
    ExportsList,
    Outcome,
    new_record_id,
    utc_now,
)
from a3cp.storage_layout import export_dir, exports_dir, require_safe_id
from web.access import outcome_of, record_audit
from web.auth import Authenticated, account_service, client_address, forbidden, not_found, require_login
from web.body import parse_json_body
from web.openapi import Operation

NDJSON = "application/x-ndjson"


def allowed_users(principal: Principal, request: ExportRequest) -> frozenset[str] | None:
    """The users this export may take captures of (None: every user, for an admin); 403 for a role that
    never exports, 404 (field `users`) for a named user the account has no grant for."""
    if principal.role is Role.CARER:
        raise forbidden(f"account {principal.account!r} may not export data")
    for user_id in request.users:
        if authorize_export(principal, user_id) is not Decision.ALLOWED:
            raise UserNotFound("no such user", "users")
    if request.users:
        return frozenset(request.users)
    return None if principal.role is Role.ADMIN else principal.granted_users


def _audit_export(request: Request, auth: Authenticated, body: ExportRequest, outcome: ExportOutcome) -> None:
    principal = auth.principal
    audit = account_service(request).audit
    client = client_address(request)
    record_export(audit, body, outcome, client=client, account=principal.account, role=principal.role)


def _plan(request: Request, auth: Authenticated, body: ExportRequest) -> ExportPlan:
    allowed = allowed_users(auth.principal, body)
    settings = request.app.state.services.settings
    return plan_export(settings, body, export_id=new_record_id(), created_at=utc_now(), allowed=allowed)


def _write(request: Request, plan: ExportPlan, progress: Progress | None = None) -> ExportOutcome:
    settings = request.app.state.services.settings
    exports_dir(settings, create=True)
    target = export_dir(settings, plan.export_id)
    return write_export(settings, plan, target, progress or (lambda done, total: None))


def _created(outcome: ExportOutcome) -> bytes:
    count = outcome.manifest["captures_count"]
    created = ExportCreated(
        export_id=outcome.export_id,
        created_at=outcome.created_at,
        progress=ExportProgress(done=count, total=count),
        download=f"/exports/{outcome.export_id}",
        manifest=outcome.manifest,
    )
    return created.model_dump_json().encode()


async def _audit_failure(request: Request, auth: Authenticated, exc: Exception) -> None:
    await run_in_threadpool(record_audit, request, auth.principal, AuditAction.EXPORT, outcome_of(exc))


async def create(request: Request) -> Response:
    """Refusals (access, body, verify) are answered before any file is written, with their status;
    with `Accept: application/x-ndjson` the writing then streams its progress (see _progress_lines)."""
    auth = await require_login(request)
    streamed = NDJSON in request.headers.get("accept", "")
    try:
        body = await parse_json_body(request, ExportRequest)
        plan = await run_in_threadpool(_plan, request, auth, body)
        outcome = None if streamed else await run_in_threadpool(_write, request, plan)
    except Exception as exc:  # refused or failed: audited with its outcome before the error answer
        await _audit_failure(request, auth, exc)
        raise
    if outcome is None:
        return StreamingResponse(_progress_lines(request, auth, body, plan), media_type=NDJSON)
    await run_in_threadpool(_audit_export, request, auth, body, outcome)
    return Response(_created(outcome), status_code=201, media_type="application/json")


async def _progress_lines(
    request: Request, auth: Authenticated, body: ExportRequest, plan: ExportPlan
) -> AsyncIterator[bytes]:
    """One JSON line `{"progress": {"done", "total"}}` per capture written, then `{"export": ...}` (the
    POST's 201 body) or `{"error": ...}` (the error body) once the export is audited."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[ExportProgress | None] = asyncio.Queue()

    def progress(done: int, total: int) -> None:
        loop.call_soon_threadsafe(lines.put_nowait, ExportProgress(done=done, total=total))

    def work() -> ExportOutcome:
        # audited here, in the worker, so the export is recorded even if the client went away meanwhile
        try:
            outcome = _write(request, plan, progress)
            _audit_export(request, auth, body, outcome)
            return outcome
        except Exception as exc:
            record_audit(request, auth.principal, AuditAction.EXPORT, outcome_of(exc))
            raise
        finally:
            loop.call_soon_threadsafe(lines.put_nowait, None)

    job = asyncio.ensure_future(run_in_threadpool(work))
    while (line := await lines.get()) is not None:
        yield b'{"progress":' + line.model_dump_json().encode() + b"}\n"
    try:
        outcome = await job
    except Exception as exc:
        message = exc.message if isinstance(exc, DomainError) else "the export failed"
        error = ErrorResponse.of(getattr(exc, "code", "internal_error"), message)
        yield b'{"error":' + error.model_dump_json().encode() + b"}\n"
        return
    yield b'{"export":' + _created(outcome) + b"}\n"


def visible_exports(request: Request, principal: Principal) -> list[ExportListing]:
    """The held exports `principal` made and may still export every user of (every export for an admin):
    a grant revoked since hides the exports that hold that user's data. Stale exports are retired first."""
    services = request.app.state.services
    held = retire_stale(services.settings, account_service(request).audit, services.consent, utc_now())
    return [
        export
        for export in held.kept
        if (principal.role is Role.ADMIN or export.account == principal.account)
        and all(authorize_export(principal, user_id) is Decision.ALLOWED for user_id in export.users)
    ]


async def listing(request: Request) -> JSONResponse:
    auth = await require_login(request)
    exports = await run_in_threadpool(visible_exports, request, auth.principal)
    await run_in_threadpool(record_audit, request, auth.principal, AuditAction.EXPORTS_LISTED, Outcome.OK)
    return JSONResponse(ExportsList(exports=exports).model_dump(mode="json"))


async def _visible_export(request: Request, auth: Authenticated, action: AuditAction) -> ExportListing:
    """The export the path names, if this account may see it and it is still held; every refusal is
    audited as `action` before the 400/404 is answered (a hidden export looks like a missing one)."""
    try:
        export_id = require_safe_id(request.path_params["export_id"], "export_id")
    except Exception as exc:
        await run_in_threadpool(record_audit, request, auth.principal, action, outcome_of(exc))
        raise
    visible = await run_in_threadpool(visible_exports, request, auth.principal)
    found = next((export for export in visible if export.export_id == export_id), None)
    if found is None or not export_dir(request.app.state.services.settings, export_id).is_dir():
        outcome = Outcome.NOT_FOUND
        await run_in_threadpool(record_audit, request, auth.principal, action, outcome, object_id=export_id)
        raise not_found()
    return found


async def download(request: Request) -> Response:
    auth = await require_login(request)
    action = AuditAction.EXPORT_DOWNLOADED
    export = await _visible_export(request, auth, action)
    await run_in_threadpool(
        record_audit, request, auth.principal, action, Outcome.OK, object_id=export.export_id
    )
    root = export_dir(request.app.state.services.settings, export.export_id)
    headers = {"Content-Disposition": f'attachment; filename="a3cp-export-{export.export_id}.tar"'}
    return StreamingResponse(stream_archive(root), media_type=ARCHIVE_MEDIA_TYPE, headers=headers)


async def delete(request: Request) -> JSONResponse:
    """Delete an export from the server (its maker or an admin): the folder, then its register entry."""
    auth = await require_login(request)
    export = await _visible_export(request, auth, AuditAction.EXPORT_DELETED)
    principal = auth.principal
    await run_in_threadpool(
        delete_export,
        request.app.state.services.settings,
        account_service(request).audit,
        export,
        client=client_address(request),
        account=principal.account,
        role=principal.role,
    )
    return JSONResponse(ExportDeleted(export_id=export.export_id).model_dump(mode="json"))


routes = [
    Route("/exports", create, methods=["POST"]),
    Route("/exports", listing, methods=["GET"]),
    Route("/exports/{export_id}", download, methods=["GET"]),
    Route("/exports/{export_id}", delete, methods=["DELETE"]),
]

_ERRORS: tuple[int, ...] = (400, 401, 403, 404, 409, 413)
operations: list[Any] = [
    Operation(
        "/exports",
        "POST",
        "Export the consented, verified captures the filters select as a pseudonymous dataset",
        {201: ExportCreated},
        request_model=ExportRequest,
        error_statuses=_ERRORS,
    ),
    Operation(
        "/exports", "GET", "The exports this account may download", {200: ExportsList}, error_statuses=(401,)
    ),
    Operation(
        "/exports/{export_id}",
        "GET",
        "Download one export (its maker or an admin) as one streamed tar",
        {},
        path_params=("export_id",),
        error_statuses=(400, 401, 404),
        binary_responses={200: (ARCHIVE_MEDIA_TYPE, "The export's folder as a tar (docs/export.md)")},
    ),
    Operation(
        "/exports/{export_id}",
        "DELETE",
        "Delete one export from the server (its maker or an admin); copies already downloaded stay",
        {200: ExportDeleted},
        path_params=("export_id",),
        error_statuses=(400, 401, 404),
    ),
]
