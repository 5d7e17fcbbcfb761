"""Dataset export routes (docs/export.md): `POST /exports` runs an export into
`<DATA_ROOT>/exports/<export_id>/` and answers with its manifest, `GET /exports/{export_id}` streams it
as one tar (its maker or an admin), `GET /exports` lists the exports the account may download.

Who may export: a researcher the users granted to them (an ungranted user named in `users` answers 404
like a missing one), an admin every user, a carer nobody (403). Every request is audited before its
answer: an export as one record per exported user (object_id the export id, details its format,
filters, captures and users), which is also what the listing reads.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from a3cp.accounts.audit import AuditTrail
from a3cp.accounts.policy import Decision, Principal, Role, authorize_export
from a3cp.domain.errors import UserNotFound
from a3cp.export.archive import ARCHIVE_MEDIA_TYPE, stream_archive
from a3cp.export.service import ExportOutcome, exports_in, record_export, run_export
from a3cp.schemas import (
    AuditAction,
    ExportCreated,
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


def allowed_users(principal: Principal, request: ExportRequest) -> frozenset[str] | None:
    """The users this export may take captures of (None: every user, for an admin); 403 for a role that
    never exports, 404 (field `users`) for a named user the account has no grant for."""
    if principal.role is Role.CARER:
        raise forbidden(f"account {principal.account!r} may not export data")
    for user_id in request.users:
        if authorize_export(principal, user_id) is not Decision.ALLOWED:
            raise UserNotFound("no such user", "users")
    if principal.role is Role.ADMIN:
        return frozenset(request.users) if request.users else None
    return frozenset(request.users) if request.users else principal.granted_users


def _audit_export(request: Request, auth: Authenticated, body: ExportRequest, outcome: ExportOutcome) -> None:
    principal = auth.principal
    audit = account_service(request).audit
    client = client_address(request)
    record_export(audit, body, outcome, client=client, account=principal.account, role=principal.role)


def _export(request: Request, auth: Authenticated, body: ExportRequest) -> ExportOutcome:
    settings = request.app.state.services.settings
    allowed = allowed_users(auth.principal, body)
    export_id = new_record_id()
    exports_dir(settings, create=True)
    target = export_dir(settings, export_id)
    return run_export(settings, body, target, export_id=export_id, created_at=utc_now(), allowed=allowed)


async def create(request: Request) -> JSONResponse:
    auth = await require_login(request)
    try:
        body = await parse_json_body(request, ExportRequest)
        outcome = await run_in_threadpool(_export, request, auth, body)
    except Exception as exc:  # refused or failed: audited with its outcome before the error answer
        await run_in_threadpool(record_audit, request, auth.principal, AuditAction.EXPORT, outcome_of(exc))
        raise
    await run_in_threadpool(_audit_export, request, auth, body, outcome)
    count = outcome.manifest["captures_count"]
    created = ExportCreated(
        export_id=outcome.export_id,
        created_at=outcome.created_at,
        progress=ExportProgress(done=count, total=count),
        download=f"/exports/{outcome.export_id}",
        manifest=outcome.manifest,
    )
    return JSONResponse(created.model_dump(mode="json"), status_code=201)


def visible_exports(audit: AuditTrail, principal: Principal) -> list[ExportListing]:
    """The exports `principal` made (every export for an admin)."""
    records = (
        record
        for record in audit.read(account=None if principal.role is Role.ADMIN else principal.account)
        if record.action is AuditAction.EXPORT and record.outcome is Outcome.OK
    )
    return exports_in(records)


async def listing(request: Request) -> JSONResponse:
    auth = await require_login(request)
    audit = account_service(request).audit
    exports = await run_in_threadpool(visible_exports, audit, auth.principal)
    await run_in_threadpool(record_audit, request, auth.principal, AuditAction.EXPORTS_LISTED, Outcome.OK)
    return JSONResponse(ExportsList(exports=exports).model_dump(mode="json"))


async def download(request: Request) -> Response:
    auth = await require_login(request)
    export_id = require_safe_id(request.path_params["export_id"], "export_id")
    settings = request.app.state.services.settings
    audit = account_service(request).audit
    known = {e.export_id for e in await run_in_threadpool(visible_exports, audit, auth.principal)}
    root = export_dir(settings, export_id)
    found = export_id in known and root.is_dir()
    outcome = Outcome.OK if found else Outcome.NOT_FOUND
    action = AuditAction.EXPORT_DOWNLOADED
    await run_in_threadpool(record_audit, request, auth.principal, action, outcome, object_id=export_id)
    if not found:
        raise not_found()
    headers = {"Content-Disposition": f'attachment; filename="a3cp-export-{export_id}.tar"'}
    return StreamingResponse(stream_archive(root), media_type=ARCHIVE_MEDIA_TYPE, headers=headers)


routes = [
    Route("/exports", create, methods=["POST"]),
    Route("/exports", listing, methods=["GET"]),
    Route("/exports/{export_id}", download, methods=["GET"]),
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
]
