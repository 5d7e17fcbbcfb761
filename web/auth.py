"""Who is asking: a request (or WebSocket upgrade) resolved to an authenticated account, and the checks
every protected route makes through `require_account`.

Credentials: the `a3cp_session` cookie of a browser login (HttpOnly, SameSite=Strict, Secure over TLS) or
`Authorization: Bearer <token>`. A cookie-authenticated state change must come from this origin
(`Sec-Fetch-Site: same-origin`, or an `Origin` equal to ours) and carry JSON (or nothing): a cross-site
form cannot send either, so no CSRF token is needed. Decisions come from `a3cp.accounts.policy.authorize`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a3cp.accounts.credentials import LoginSession
from a3cp.accounts.errors import AccountError
from a3cp.accounts.policy import Action, Decision, Principal, authorize
from a3cp.accounts.service import AccountService
from a3cp.schemas import FieldError
from web.error_table import http_status
from web.errors import RequestRejected
from web.openapi import Operation

SESSION_COOKIE = "a3cp_session"
T = TypeVar("T")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="a3cp"'}
SECURITY_SCHEMES: dict[str, Any] = {
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "an API token (`a3cp tokens create`)"},
}
HSTS = "max-age=31536000"
PUBLIC_OPERATIONS = (("/auth/login", "post"),)  # OpenAPI operations that need no credentials


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    via: Literal["cookie", "token"]
    session: LoginSession | None = None  # the browser login, when via the cookie
    session_id: str | None = None


def account_service(connection: HTTPConnection) -> AccountService:
    """The app's AccountService, built on first use from the app's settings."""
    state = connection.app.state
    service: AccountService | None = getattr(state, "accounts", None)
    if service is None:
        service = AccountService.build(state.services.settings)
        state.accounts = service
    return service


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def is_tls(connection: HTTPConnection) -> bool:
    return connection.url.scheme in {"https", "wss"}


def own_origin(connection: HTTPConnection) -> str:
    """This service's origin as the client addressed it (scheme://host[:port])."""
    scheme = "https" if is_tls(connection) else "http"
    return f"{scheme}://{connection.headers.get('host', connection.url.netloc)}"


def is_same_origin(connection: HTTPConnection) -> bool:
    """Sec-Fetch-Site says same-origin, or (older browsers, scripts) Origin is ours; neither → no."""
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = connection.headers.get("origin")
    return origin is not None and origin == own_origin(connection)


def _bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _resolve(service: AccountService, connection: HTTPConnection) -> Authenticated | None:
    token = _bearer(connection)
    if token is not None:  # a (bad) Authorization header is never overridden by a cookie
        principal = service.principal_for_token(token) if token else None
        return Authenticated(principal, "token") if principal else None
    session_id = connection.cookies.get(SESSION_COOKIE)
    found = service.principal_for_session(session_id) if session_id else None
    return Authenticated(found[0], "cookie", found[1], session_id) if found else None


async def authenticate(connection: HTTPConnection) -> Authenticated | None:
    """Who proved themselves on this request or upgrade; None without valid credentials."""
    return await run_in_threadpool(_resolve, account_service(connection), connection)


def unauthenticated(message: str = "log in or send an API token") -> RequestRejected:
    return RequestRejected(401, "unauthenticated", message, [], headers=_CHALLENGE)


def forbidden(message: str) -> RequestRejected:
    return RequestRejected(403, "forbidden", message, [])


def not_found() -> RequestRejected:
    return RequestRejected(404, "not_found", "no such resource", [])


def rejected_from_account_error(exc: AccountError) -> RequestRejected:
    """The answer to a refused account operation, its status from the error table, naming the field."""
    status = http_status(exc.code)
    fields = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
    return RequestRejected(status, exc.code, exc.message, fields)


async def run_account_operation(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) AccountService call off the event loop, its AccountError turned into an answer."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except AccountError as exc:
        raise rejected_from_account_error(exc) from None


def check_csrf(request: Request, auth: Authenticated | None) -> None:
    """Refuse a cookie-authenticated (or login) state change that is cross-site or not JSON."""
    if request.method not in UNSAFE_METHODS or (auth is not None and auth.via == "token"):
        return
    browser = "sec-fetch-site" in request.headers or "origin" in request.headers
    if auth is None and not browser:
        return  # a script logging in: no cookie of its own is at stake
    if not is_same_origin(request):
        raise forbidden("cross-site request refused (Origin / Sec-Fetch-Site is not this service)")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if auth is not None and has_body and content_type != "application/json":
        raise forbidden("a state change authenticated by cookie must send a JSON body")


async def require_login(request: Request) -> Authenticated:
    """Any valid account (401 otherwise); cookie state changes must pass the CSRF check."""
    auth = await authenticate(request)
    if auth is None:
        raise unauthenticated()
    check_csrf(request, auth)
    return auth


async def require_account(
    request: Request,
    action: Action,
    user_id: str | None = None,
    *,
    hidden: Exception | None = None,
) -> Authenticated:
    """The seam every protected route calls: authenticate, check CSRF, then `authorize`.

    A read the account may not see raises `hidden` (the route's own not-found error, so a hidden user
    looks exactly like a missing one; default a plain 404); a refused write or action raises 403.
    """
    auth = await require_login(request)
    permit(auth, action, user_id, hidden=hidden)
    return auth


def permit(
    auth: Authenticated, action: Action, user_id: str | None, *, hidden: Exception | None = None
) -> None:
    """Raise unless `authorize` allows it: `hidden` (default a plain 404) for a read the account may not
    see, 403 for a refused write or action."""
    decision = authorize(auth.principal, action, user_id)
    if decision is Decision.NOT_FOUND:
        raise hidden or not_found()
    if decision is Decision.FORBIDDEN:
        raise forbidden(f"account {auth.principal.account!r} may not {action.value} this data")


def performer_for(principal: Principal, claimed: str | None) -> str:
    """The performer_id to record: the account's name; naming anyone else is refused."""
    if claimed is not None and claimed != principal.account:
        raise RequestRejected(403, "performer_mismatch", "performer_id must be the authenticated account", [])
    return principal.account


async def websocket_principal(connection: HTTPConnection) -> tuple[Principal | None, str]:
    """The account a WebSocket upgrade proves, or None and why it is refused (a cookie upgrade needs our
    Origin: a page on another site could otherwise open a capture stream with the carer's cookie)."""
    auth = await authenticate(connection)
    if auth is None:
        return None, "unauthenticated"
    if auth.via == "cookie" and connection.headers.get("origin") != own_origin(connection):
        return None, "foreign origin"
    return auth.principal, ""


def login_redirect(request: Request) -> RedirectResponse:
    """Send a browser to the login page, and back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def safe_next(value: str | None) -> str:
    """A same-site path to return to after login (never another host: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/demo/gesture"
    return value


def set_session_cookie(response: Response, session_id: str, connection: HTTPConnection) -> None:
    service = account_service(connection)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(service.credentials.limits.absolute_timeout_s),
        path="/",
        secure=is_tls(connection),
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, connection: HTTPConnection) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_tls(connection), httponly=True, samesite="strict"
    )


def declare_security(document: dict[str, Any], protected: Iterable[Operation]) -> dict[str, Any]:
    """The OpenAPI document with the cookie and bearer schemes declared and required by the `protected`
    operations (those in PUBLIC_OPERATIONS excepted)."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for op in protected:
        if (op.path, op.method.lower()) not in PUBLIC_OPERATIONS:
            operation = document["paths"][op.path][op.method.lower()]
            operation["security"] = [{"cookieAuth": []}, {"bearerAuth": []}]
    return document


class HstsMiddleware:
    """Strict-Transport-Security on answers served over TLS only (over plain HTTP it means nothing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"strict-transport-security", HSTS.encode())]
            await send(message)

        await self.app(scope, receive, send_with_hsts)
