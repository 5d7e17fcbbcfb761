"""One request's action on a person's data: authenticated, authorized by the policy, its performer the
account, and audited once before the answer is sent.

A route wraps its work in `data_request(request, AuditAction.X)`: the account must be logged in (401
otherwise, CSRF checked for cookie state changes); `permit` refuses a data action without a grant (403 for
writes, the route's own not-found for reads, so a hidden user looks exactly like a missing one); `visible`
is the same check as a predicate for reads that learn the owner only from the projection; `claim_performer`
makes the recorded performer_id the account's name. Whatever the outcome (done, not found, forbidden,
failed), one audit record is durably appended before the answer leaves, so a request that was answered
always has its record (docs/security.md). `run` does the route's blocking work and, once it succeeded,
appends that record in the same worker-thread hop (a hop per step was a tenth of the request path's
CPU, bench.api --profile).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request

from a3cp.accounts.policy import Action, Decision, Principal, authorize
from a3cp.schemas import AuditAction, Outcome
from a3cp.storage_layout import ID_PATTERN
from web.auth import Authenticated, account_service, client_address, performer_for, permit, require_login
from web.error_table import http_status

T = TypeVar("T")
_SAFE_ID = re.compile(ID_PATTERN)
_OUTCOME_OF_STATUS = {404: Outcome.NOT_FOUND, 403: Outcome.FORBIDDEN}


def _safe(value: str | None) -> str | None:
    """`value` when it can be written as the audit record's user_id (a safe id), else None."""
    return value if value is not None and _SAFE_ID.fullmatch(value) else None


def outcome_of(exc: BaseException) -> Outcome:
    """The audit outcome of a request that ended in `exc`: refused as hidden, forbidden, or failed."""
    code = getattr(exc, "code", None)
    status = getattr(exc, "status_code", None) or (http_status(code) if isinstance(code, str) else None)
    return _OUTCOME_OF_STATUS.get(status, Outcome.FAILED) if isinstance(status, int) else Outcome.FAILED


@dataclass
class DataRequest:
    """What the route learns while it works: whose data (`user_id`) and which object (`object_id`)."""

    auth: Authenticated
    request: Request
    action: AuditAction
    user_id: str | None = None
    object_id: str | None = None
    audited: bool = False

    @property
    def account(self) -> str:
        return self.auth.principal.account

    def permit(self, action: Action, user_id: str, hidden: Exception | None = None) -> None:
        """Refuse `action` on `user_id`'s data unless the account may take it (see web.auth.permit)."""
        self.user_id = _safe(user_id)
        permit(self.auth, action, user_id, hidden=hidden)

    def visible(self, user_id: str) -> bool:
        """May the account read `user_id`'s data? (the owner read is then noted for the audit)"""
        allowed = authorize(self.auth.principal, Action.READ, user_id) is Decision.ALLOWED
        if allowed:
            self.user_id = user_id
        return allowed

    async def run(self, work: Callable[[], T], object_of: Callable[[T], str] | None = None) -> T:
        """`work()` in a worker thread, then in the same thread its audit record (outcome done, the
        object `object_of(result)` when given). A failure of either is audited by `data_request`."""

        def work_then_audit() -> T:
            result = work()
            if object_of is not None:
                self.object_id = object_of(result)
            self.audit(Outcome.OK)
            return result

        return await run_in_threadpool(work_then_audit)

    def audit(self, outcome: Outcome) -> None:
        """Durably append this request's audit record (blocking), once."""
        record_audit(
            self.request,
            self.auth.principal,
            self.action,
            outcome,
            user_id=self.user_id,
            object_id=self.object_id,
        )
        self.audited = True

    def claim_performer(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` (a raw JSON object) with performer_id the account's name: omitted → filled in; another
        name → 403 performer_mismatch; a value that is no valid id is left for the model to refuse (400)."""
        claimed = body.get("performer_id")
        if claimed is None or (isinstance(claimed, str) and _safe(claimed) is not None):
            return {**body, "performer_id": performer_for(self.auth.principal, claimed)}
        return body


def record_audit(
    connection: HTTPConnection,
    principal: Principal,
    action: AuditAction,
    outcome: Outcome,
    *,
    user_id: str | None = None,
    object_id: str | None = None,
) -> None:
    """Durably append one audit record of `principal`'s action (blocking: fdatasync before it returns)."""
    account_service(connection).audit.record(
        action,
        outcome,
        client=client_address(connection),
        account=principal.account,
        role=principal.role,
        user_id=_safe(user_id),
        object_id=object_id[:128] if object_id is not None else None,
    )


@asynccontextmanager
async def data_request(request: Request, action: AuditAction) -> AsyncIterator[DataRequest]:
    """Authenticate `request`, hand the route its DataRequest, and audit how the work ended."""
    access = DataRequest(await require_login(request), request, action)
    try:
        yield access
    except Exception as exc:  # answered as an error: audited with its outcome (a cancellation is not)
        if not access.audited:
            await run_in_threadpool(access.audit, outcome_of(exc))
        raise
    if not access.audited:
        await run_in_threadpool(access.audit, Outcome.OK)
