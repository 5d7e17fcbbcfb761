"""Consent routes (docs/privacy.md): record a person's consent, withdraw it (optionally erasing), read it,
an admin's erasure of a whole person, and the published consent texts a carer shows. Each change is one
appended event naming the account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.accounts.policy import Action
from a3cp.consent_texts import consent_texts
from a3cp.domain.consent import SCOPES, UserConsentState
from a3cp.export.retention import retire_stale
from a3cp.schemas import (
    AuditAction,
    ConsentChange,
    ConsentGrantInput,
    ConsentTexts,
    ConsentTextView,
    ConsentView,
    ConsentWithdrawInput,
    ErasureInput,
    Outcome,
    ScopeView,
    utc_now,
)
from a3cp.services.consent import ConsentService
from a3cp.storage_layout import require_safe_id
from web.auth import Authenticated, account_service, client_address, require_account, require_login
from web.body import parse_json_body
from web.openapi import Operation

WRITE_ERRORS = (400, 401, 403, 413)


def _user_id(request: Request) -> str:
    return require_safe_id(request.path_params["user_id"], "user_id")


def _consent(request: Request) -> ConsentService:
    service: ConsentService = request.app.state.services.consent
    return service


def audit(request: Request, auth: Authenticated, action: AuditAction, user_id: str, object_id: str) -> None:
    """One audit record of a consent, curation or landmark operation that was carried out."""
    principal = auth.principal
    account_service(request).audit.record(
        action,
        Outcome.OK,
        client=client_address(request),
        account=principal.account,
        role=principal.role,
        user_id=user_id,
        object_id=object_id,
    )


def consent_view(user_id: str, state: UserConsentState, enforced: bool) -> ConsentView:
    now = utc_now()
    scopes: dict[str, ScopeView] = {
        scope: ScopeView(
            active=state.scopes[scope].active_at(now),
            consent_record_id=state.scopes[scope].consent_record_id,
            valid_until=state.scopes[scope].valid_until,
        )
        for scope in SCOPES
    }
    history = [event.to_record() for event in state.history]
    return ConsentView(user_id=user_id, enforced=enforced, scopes=scopes, history=history)


async def grant(request: Request) -> JSONResponse:
    user_id = _user_id(request)
    auth = await require_account(request, Action.CAPTURE, user_id)
    body = await parse_json_body(request, ConsentGrantInput)
    event = await run_in_threadpool(_consent(request).grant, user_id, auth.principal.account, body)
    await run_in_threadpool(audit, request, auth, AuditAction.CONSENT_GRANTED, user_id, event.record_id)
    return JSONResponse(ConsentChange(event=event.to_record()).model_dump(mode="json"), status_code=201)


async def _withdraw(
    request: Request,
    auth: Authenticated,
    user_id: str,
    scopes: Iterable[str],
    reason: str | None,
    erase: bool,
) -> ConsentChange:
    service = _consent(request)
    account = auth.principal.account
    event, erased = await run_in_threadpool(service.withdraw_scopes, user_id, account, scopes, reason, erase)
    # The server's copies in exports go with the consent they were made under (a3cp.export.retention).
    settings, audit_trail = request.app.state.services.settings, account_service(request).audit
    await run_in_threadpool(retire_stale, settings, audit_trail, service, utc_now(), user_id=user_id)
    return ConsentChange(event=event.to_record(), erased=[done.to_record() for done in erased])


async def withdraw(request: Request) -> JSONResponse:
    user_id = _user_id(request)
    auth = await require_account(request, Action.CAPTURE, user_id)
    body = await parse_json_body(request, ConsentWithdrawInput)
    change = await _withdraw(request, auth, user_id, body.scopes, body.reason, body.erase)
    withdrawn = AuditAction.CONSENT_WITHDRAWN
    await run_in_threadpool(audit, request, auth, withdrawn, user_id, change.event["record_id"])
    return JSONResponse(change.model_dump(mode="json"))


async def erasure(request: Request) -> JSONResponse:
    """An admin erases a whole person: every scope withdrawn, every capture erased."""
    user_id = _user_id(request)
    auth = await require_account(request, Action.MANAGE_ACCOUNTS)
    body = await parse_json_body(request, ErasureInput)
    change = await _withdraw(request, auth, user_id, SCOPES, body.reason, True)
    await run_in_threadpool(audit, request, auth, AuditAction.ERASURE, user_id, change.event["record_id"])
    return JSONResponse(change.model_dump(mode="json"))


async def read(request: Request) -> JSONResponse:
    user_id = _user_id(request)
    auth = await require_account(request, Action.READ, user_id)
    state = await run_in_threadpool(_consent(request).state, user_id)
    await run_in_threadpool(audit, request, auth, AuditAction.READ_CONSENT, user_id, user_id)
    enforced = request.app.state.services.settings.consent_required
    view: dict[str, Any] = consent_view(user_id, state, enforced).model_dump(mode="json")
    return JSONResponse(view)


_TEXTS = ConsentTexts(
    texts=[ConsentTextView.model_validate(text, from_attributes=True) for text in consent_texts()]
).model_dump(mode="json")


async def texts(request: Request) -> JSONResponse:
    """The published consent texts (about no user: any logged-in account may read them)."""
    await require_login(request)
    return JSONResponse(_TEXTS)


routes = [
    Route("/users/{user_id}/consent", grant, methods=["POST"]),
    Route("/users/{user_id}/consent", read, methods=["GET"]),
    Route("/users/{user_id}/consent.withdraw", withdraw, methods=["POST"]),
    Route("/users/{user_id}/erasure", erasure, methods=["POST"]),
    Route("/consent/texts", texts, methods=["GET"]),
]

operations = [
    Operation(
        "/users/{user_id}/consent",
        "POST",
        "Record the consent a person (or their representative) gave, per scope (docs/privacy.md)",
        {201: ConsentChange},
        request_model=ConsentGrantInput,
        path_params=("user_id",),
        error_statuses=WRITE_ERRORS,
    ),
    Operation(
        "/users/{user_id}/consent",
        "GET",
        "The person's consent per scope now, and every consent event",
        {200: ConsentView},
        path_params=("user_id",),
        error_statuses=(400, 401, 404),
    ),
    Operation(
        "/consent/texts",
        "GET",
        "The published consent texts (id, version, language, sha256, text), old versions included",
        {200: ConsentTexts},
        error_statuses=(401,),
    ),
    Operation(
        "/users/{user_id}/consent.withdraw",
        "POST",
        "Withdraw consent for some scopes; with erase, the captures they covered are erased",
        {200: ConsentChange},
        request_model=ConsentWithdrawInput,
        path_params=("user_id",),
        error_statuses=WRITE_ERRORS,
    ),
    Operation(
        "/users/{user_id}/erasure",
        "POST",
        "An admin erases a whole person: every scope withdrawn, every capture's features deleted",
        {200: ConsentChange},
        request_model=ErasureInput,
        path_params=("user_id",),
        error_statuses=WRITE_ERRORS,
    ),
]
