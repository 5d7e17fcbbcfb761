"""The admin page and its JSON API (accounts, grants, login sessions), and `GET /audit`.

Admin only (`Action.MANAGE_ACCOUNTS`, `Action.READ_AUDIT`): anyone else gets 403, no credentials 401 (the
page redirects to the login). Every change is made by the AccountService as the admin, so the access log
and the audit trail name who did it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from a3cp.accounts.policy import Action, Decision, authorize
from a3cp.accounts.service import AccountService
from a3cp.accounts.state import AccountState
from a3cp.schemas import (
    AccountCreateInput,
    AccountsList,
    AccountView,
    AuditAction,
    AuditList,
    FieldError,
    GrantInput,
    LoginSessionsList,
    LoginSessionView,
    Outcome,
    format_timestamp,
)
from a3cp.storage_layout import require_safe_id
from web.auth import (
    Authenticated,
    account_service,
    authenticate,
    client_address,
    login_redirect,
    require_account,
    run_account_operation,
)
from web.body import parse_json_body
from web.errors import RequestRejected
from web.openapi import Operation
from web.pages import Page, error_block, render_page

ADMIN_ERRORS = (400, 401, 403, 404, 409, 413)
ADMIN_PAGE = Page("admin.html", "A3CP: administration", "admin.js")


def account_view(account: AccountState) -> AccountView:
    return AccountView(
        name=account.name,
        role=account.role,
        disabled=account.disabled,
        created_at=account.created_at,
        grants=sorted(account.grants),
    )


def _stamp(moment: float) -> str:
    return format_timestamp(datetime.fromtimestamp(moment, UTC))


def _accounts(service: AccountService) -> AccountsList:
    accounts = service.state().accounts.values()
    return AccountsList(accounts=[account_view(a) for a in sorted(accounts, key=lambda a: a.name)])


def _sessions(service: AccountService) -> LoginSessionsList:
    sessions = [
        LoginSessionView(
            handle=s.handle,
            account=s.account,
            created_at=_stamp(s.created_at),
            last_seen=_stamp(s.last_seen),
            client=s.client,
        )
        for s in service.credentials.active_sessions()
    ]
    return LoginSessionsList(sessions=sessions)


async def _admin(request: Request) -> tuple[Authenticated, AccountService]:
    return await require_account(request, Action.MANAGE_ACCOUNTS), account_service(request)


def _safe(value: str, name: str) -> str:
    try:
        return require_safe_id(value, name)
    except ValueError as exc:
        field = FieldError(field=name, message=str(exc))
        raise RequestRejected(400, "validation_error", str(exc), [field]) from None


def _name_param(request: Request, name: str = "name") -> str:
    return _safe(request.path_params[name], name)


async def admin_page(request: Request) -> Response:
    auth = await authenticate(request)
    if auth is None:
        return login_redirect(request)
    if authorize(auth.principal, Action.MANAGE_ACCOUNTS) is not Decision.ALLOWED:
        return render_page(ADMIN_PAGE, 403, error=error_block("This page is for administrators."))
    return render_page(ADMIN_PAGE, error="")


async def list_accounts(request: Request) -> JSONResponse:
    _, service = await _admin(request)
    return JSONResponse((await run_account_operation(_accounts, service)).model_dump(mode="json"))


async def create_account(request: Request) -> JSONResponse:
    auth, service = await _admin(request)
    body = await parse_json_body(request, AccountCreateInput)
    created = await run_account_operation(
        service.create_account,
        body.username,
        body.role,
        body.password,
        actor=auth.principal.account,
        client=client_address(request),
    )
    return JSONResponse(account_view(created).model_dump(mode="json"), status_code=201)


def _account_after(service: AccountService, name: str) -> JSONResponse:
    account = service.state().account(name)
    assert account is not None  # the change just succeeded on it
    return JSONResponse(account_view(account).model_dump(mode="json"))


async def add_grant(request: Request) -> JSONResponse:
    auth, service = await _admin(request)
    name = _name_param(request)
    body = await parse_json_body(request, GrantInput)
    actor = auth.principal.account
    await run_account_operation(
        service.grant, name, body.user_id, actor=actor, client=client_address(request)
    )
    return _account_after(service, name)


async def revoke_grant(request: Request) -> JSONResponse:
    auth, service = await _admin(request)
    name, user_id = _name_param(request), _name_param(request, "user_id")
    actor = auth.principal.account
    await run_account_operation(service.revoke, name, user_id, actor=actor, client=client_address(request))
    return _account_after(service, name)


async def disable_account(request: Request) -> JSONResponse:
    auth, service = await _admin(request)
    name = _name_param(request)
    if name == auth.principal.account:
        message = "an admin cannot disable their own account"
        raise RequestRejected(400, "validation_error", message, [FieldError(field="name", message=message)])
    await run_account_operation(
        service.disable, name, actor=auth.principal.account, client=client_address(request)
    )
    return _account_after(service, name)


async def list_sessions(request: Request) -> JSONResponse:
    _, service = await _admin(request)
    return JSONResponse((await run_account_operation(_sessions, service)).model_dump(mode="json"))


async def end_session(request: Request) -> JSONResponse:
    auth, service = await _admin(request)
    handle = _name_param(request, "handle")
    actor = auth.principal.account
    await run_account_operation(
        service.end_login_session, handle, actor=actor, client=client_address(request)
    )
    return JSONResponse((await run_account_operation(_sessions, service)).model_dump(mode="json"))


def _since(request: Request) -> datetime | None:
    value = request.query_params.get("since")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        message = "since must be an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T10:00:00Z"
        field = FieldError(field="since", message=message)
        raise RequestRejected(400, "validation_error", message, [field]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return None if value is None else _safe(value, name)


def _read_audit(
    service: AccountService,
    auth: Authenticated,
    client: str,
    user_id: str | None,
    account: str | None,
    since: datetime | None,
) -> AuditList:
    records = list(service.audit.read(user_id=user_id, account=account, since=since))
    principal = auth.principal
    service.audit.record(
        AuditAction.READ_AUDIT, Outcome.OK, client=client, account=principal.account, role=principal.role
    )
    return AuditList(records=records)


async def read_audit(request: Request) -> JSONResponse:
    auth = await require_account(request, Action.READ_AUDIT)
    filters = {
        "user_id": _filter(request, "user"),
        "account": _filter(request, "account"),
        "since": _since(request),
    }
    found = await run_account_operation(
        _read_audit, account_service(request), auth, client_address(request), **filters
    )
    return JSONResponse(found.model_dump(mode="json", exclude_none=True))


routes = [
    Route("/admin", admin_page, methods=["GET"]),
    Route("/admin/api/accounts", list_accounts, methods=["GET"]),
    Route("/admin/api/accounts", create_account, methods=["POST"]),
    Route("/admin/api/accounts/{name}/grants", add_grant, methods=["POST"]),
    Route("/admin/api/accounts/{name}/grants/{user_id}", revoke_grant, methods=["DELETE"]),
    Route("/admin/api/accounts/{name}/disable", disable_account, methods=["POST"]),
    Route("/admin/api/sessions", list_sessions, methods=["GET"]),
    Route("/admin/api/sessions/{handle}", end_session, methods=["DELETE"]),
    Route("/audit", read_audit, methods=["GET"]),
]

_AUDIT_FILTERS = tuple(
    {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
    for name, text in (
        ("user", "only records about this user_id"),
        ("account", "only records of this account"),
        ("since", "only records at or after this ISO 8601 time (UTC when no offset)"),
    )
)
operations = [
    Operation(
        "/admin/api/accounts",
        "GET",
        "Every account with its role and grants",
        {200: AccountsList},
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/accounts",
        "POST",
        "Create an account",
        {201: AccountView},
        request_model=AccountCreateInput,
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/accounts/{name}/grants",
        "POST",
        "Grant an account a user's data",
        {200: AccountView},
        request_model=GrantInput,
        path_params=("name",),
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/accounts/{name}/grants/{user_id}",
        "DELETE",
        "Revoke a grant",
        {200: AccountView},
        path_params=("name", "user_id"),
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/accounts/{name}/disable",
        "POST",
        "Disable an account (ends its logins)",
        {200: AccountView},
        path_params=("name",),
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/sessions",
        "GET",
        "Active browser logins",
        {200: LoginSessionsList},
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/admin/api/sessions/{handle}",
        "DELETE",
        "End a browser login",
        {200: LoginSessionsList},
        path_params=("handle",),
        error_statuses=ADMIN_ERRORS,
    ),
    Operation(
        "/audit",
        "GET",
        "The audit trail, oldest first, filtered",
        {200: AuditList},
        header_params=_AUDIT_FILTERS,
        error_statuses=(400, 401, 403),
    ),
]
