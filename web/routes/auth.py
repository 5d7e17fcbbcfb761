"""Logging in and out, the login page, who am I, and the first-run setup link.

`POST /auth/login` takes JSON (answers JSON) or a form from `/login` (answers a redirect back to where the
person was going, or the page again with the error announced). Failed logins are throttled per account
and per client address (429 with Retry-After) and every attempt is audited (a3cp.accounts.service).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from a3cp.accounts.errors import AccountError, InvalidCredentials, Throttled
from a3cp.accounts.policy import Principal
from a3cp.config import MAX_JSON_BODY_BYTES
from a3cp.schemas import FieldError, LoginInput, LoginOutput, LogoutOutput, SetupInput
from web.auth import (
    account_service,
    check_csrf,
    clear_session_cookie,
    client_address,
    rejected_from_account_error,
    require_login,
    safe_next,
    set_session_cookie,
    unauthenticated,
)
from web.body import read_capped
from web.errors import RequestRejected, rejected_from_validation
from web.openapi import Operation
from web.pages import Page, error_block, render_page

FORM_TYPE = "application/x-www-form-urlencoded"
SETUP_PATH = "/setup/{secret}"
LOGIN_PAGE = Page("login.html", "A3CP: log in", logged_in=False)
SETUP_PAGE = Page("setup.html", "A3CP: create the first administrator", logged_in=False)


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM_TYPE


async def _credentials_input(request: Request, model: type[LoginInput]) -> tuple[LoginInput, str | None]:
    """The username and password from a JSON body or a form, and (forms) where to go next."""
    raw = await read_capped(request, MAX_JSON_BODY_BYTES)
    if _is_form(request):
        fields = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
        data: object = {key: fields.get(key, "") for key in ("username", "password")}
        following = fields.get("next")
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise RequestRejected(
                400,
                "invalid_json",
                "request body is not valid JSON",
                [FieldError(field="body", message=str(exc))],
            ) from None
        following = None
    try:
        return model.model_validate(data), following
    except ValidationError as exc:
        raise rejected_from_validation(exc) from None


def principal_output(principal: Principal) -> LoginOutput:
    return LoginOutput(
        account=principal.account, role=principal.role, granted_users=sorted(principal.granted_users)
    )


def _login_failed(request: Request, exc: AccountError, following: str | None, form: bool) -> Response:
    throttled = isinstance(exc, Throttled)
    status = 429 if throttled else 401
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Throttled) else {}
    if form:
        return render_page(
            LOGIN_PAGE, status, headers=headers, error=error_block(exc.message), next=safe_next(following)
        )
    code = "too_many_attempts" if throttled else "unauthenticated"
    fields = [] if throttled else [FieldError(field="password", message="wrong username or password")]
    raise RequestRejected(status, code, exc.message, fields, headers=headers)


async def login(request: Request) -> Response:
    check_csrf(request, None)  # a cross-site page may not log a browser in either
    form = _is_form(request)
    credentials, following = await _credentials_input(request, LoginInput)
    service = account_service(request)
    try:
        done = await run_in_threadpool(
            service.login, credentials.username, credentials.password, client_address(request)
        )
    except (InvalidCredentials, Throttled) as exc:
        return _login_failed(request, exc, following, form)
    response: Response
    if form:
        response = RedirectResponse(safe_next(following), status_code=303)
    else:
        response = JSONResponse(principal_output(done.principal).model_dump(mode="json"))
    set_session_cookie(response, done.session_id, request)
    return response


async def logout(request: Request) -> Response:
    auth = await require_login(request)
    if auth.via != "cookie" or auth.session_id is None:
        raise unauthenticated("logout ends a browser login; revoke a token with `a3cp tokens revoke`")
    await run_in_threadpool(account_service(request).logout, auth.session_id, client_address(request))
    response: Response = (
        RedirectResponse("/login", status_code=303)
        if _is_form(request)
        else JSONResponse(LogoutOutput().model_dump())
    )
    clear_session_cookie(response, request)
    return response


async def whoami(request: Request) -> JSONResponse:
    auth = await require_login(request)
    return JSONResponse(principal_output(auth.principal).model_dump(mode="json"))


async def login_page(request: Request) -> Response:
    return render_page(LOGIN_PAGE, error="", next=safe_next(request.query_params.get("next")))


def _setup_page(request: Request, status: int = 200, message: str | None = None) -> Response:
    return render_page(SETUP_PAGE, status, error=error_block(message), action=request.url.path)


async def setup_page(request: Request) -> Response:
    valid = await run_in_threadpool(account_service(request).setup_link_valid, request.path_params["secret"])
    if not valid:
        return _setup_page(request, 404, "This setup link is unknown, used or expired, or an account exists.")
    return _setup_page(request)


async def complete_setup(request: Request) -> Response:
    check_csrf(request, None)
    form = _is_form(request)
    try:
        chosen, _ = await _credentials_input(request, SetupInput)
    except RequestRejected as exc:
        if not form:
            raise
        return _setup_page(request, 400, exc.message)
    service = account_service(request)
    client = client_address(request)
    secret = request.path_params["secret"]
    try:
        await run_in_threadpool(service.complete_setup, secret, chosen.username, chosen.password, client)
        done = await run_in_threadpool(service.login, chosen.username, chosen.password, client)
    except AccountError as exc:
        rejected = rejected_from_account_error(exc)
        if form:
            return _setup_page(request, rejected.status_code, exc.message)
        raise rejected from None
    response: Response
    if form:
        response = RedirectResponse("/admin", status_code=303)
    else:
        response = JSONResponse(principal_output(done.principal).model_dump(mode="json"), status_code=201)
    set_session_cookie(response, done.session_id, request)
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", whoami, methods=["GET"]),
    Route(SETUP_PATH, setup_page, methods=["GET"]),
    Route(SETUP_PATH, complete_setup, methods=["POST"]),
]

operations = [
    Operation(
        "/auth/login",
        "POST",
        "Log in with a username and password (JSON or a form); sets the a3cp_session cookie",
        {200: LoginOutput},
        request_model=LoginInput,
        error_statuses=(400, 401, 403, 413, 429),
    ),
    Operation(
        "/auth/logout",
        "POST",
        "End this browser login on the server (the cookie then answers 401)",
        {200: LogoutOutput},
        error_statuses=(401, 403),
    ),
    Operation(
        "/auth/me",
        "GET",
        "The authenticated account, its role and granted users",
        {200: LoginOutput},
        error_statuses=(401,),
    ),
]
