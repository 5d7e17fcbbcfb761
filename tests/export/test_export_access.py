"""Who may still list and download an export, and that every export request is audited, without
MediaPipe: exports of nothing written for real, and exports of named users made through the audit
trail as `record_export` writes it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.settings import LoginLimits
from a3cp.config import Settings
from a3cp.export.service import ExportOutcome, ExportPlan, record_export
from a3cp.schemas import AuditAction, AuditRecord, ExportRequest, Outcome
from a3cp.storage_layout import StorageLayout, export_dir, exports_dir
from tests.fixtures.accounts import FAST_HASHER
from tests.fixtures.loop import run_in_fresh_loop
from web.app import create_app
from web.auth import Authenticated
from web.routes import exports as exports_route

pytestmark = pytest.mark.fast
PASSWORD = "export password 01"
CREATED = "2026-12-01T12:00:00.000Z"


@dataclass
class Deployment:
    settings: Settings
    accounts: AccountService
    client: TestClient
    app: Any

    def headers(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.accounts.issue_token(account)[0]}"}

    def audit(self, action: AuditAction) -> list[AuditRecord]:
        return [r for r in self.accounts.audit.read() if r.action is action]

    def made(self, export_id: str, account: str, users: list[str]) -> None:
        """An export of `users` by `account`, as the writer leaves it and the audit trail records it."""
        root = export_dir(self.settings, export_id)
        root.mkdir(parents=True)
        (root / "README.md").write_bytes(b"an export\n")
        outcome = ExportOutcome(export_id, CREATED, root, {"captures_count": len(users)}, users)
        request = ExportRequest(format="npz")
        record_export(self.accounts.audit, request, outcome, client="test", account=account, role=None)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    settings = Settings(
        data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    StorageLayout(settings).ensure_roots()
    exports_dir(settings, create=True)
    accounts = AccountService.build(settings, hasher=FAST_HASHER, limits=LoginLimits())
    accounts.create_account("rita", Role.RESEARCHER, PASSWORD)
    accounts.create_account("boss", Role.ADMIN, PASSWORD)
    for user in ("elias01", "ben02"):
        accounts.grant("rita", user)
    app = create_app(settings)
    app.state.accounts = accounts
    with TestClient(app) as client:
        yield Deployment(settings, accounts, client, app)
    app.state.services.projection.engine.dispose()


def listed(deployment: Deployment, account: str) -> list[str]:
    response = deployment.client.get("/exports", headers=deployment.headers(account))
    assert response.status_code == 200, response.text
    return [export["export_id"] for export in response.json()["exports"]]


def test_a_revoked_grant_hides_the_exports_holding_that_user(deployment: Deployment) -> None:
    deployment.made("both", "rita", ["ben02", "elias01"])
    deployment.made("elias", "rita", ["elias01"])
    rita = deployment.headers("rita")
    assert listed(deployment, "rita") == ["both", "elias"]
    assert deployment.client.get("/exports/both", headers=rita).status_code == 200

    deployment.accounts.revoke("rita", "ben02")
    assert listed(deployment, "rita") == ["elias"]
    refused = deployment.client.get("/exports/both", headers=rita)
    assert refused.status_code == 404, refused.text
    assert deployment.audit(AuditAction.EXPORT_DOWNLOADED)[-1].outcome is Outcome.NOT_FOUND
    assert deployment.client.get("/exports/elias", headers=rita).status_code == 200
    boss = deployment.headers("boss")  # an admin may export everyone: every export stays his to hand on
    assert deployment.client.get("/exports/both", headers=boss).status_code == 200
    assert listed(deployment, "boss") == ["both", "elias"]


def test_a_bad_export_id_is_audited_before_the_400(deployment: Deployment) -> None:
    response = deployment.client.get("/exports/not!safe", headers=deployment.headers("rita"))
    assert response.status_code == 400, response.text
    [record] = deployment.audit(AuditAction.EXPORT_DOWNLOADED)
    assert record.outcome is Outcome.FAILED and record.account == "rita"


def test_a_streamed_export_is_audited_though_the_client_went_away(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing, release = threading.Event(), threading.Event()
    write = exports_route._write

    def slow_write(request: Request, plan: ExportPlan, progress: Any = None) -> ExportOutcome:
        writing.set()
        assert release.wait(10)
        return write(request, plan, progress)

    monkeypatch.setattr(exports_route, "_write", slow_write)
    principal = deployment.accounts.principal_for_token(deployment.headers("rita")["Authorization"][7:])
    assert principal is not None
    scope = {"type": "http", "app": deployment.app, "client": ("client", 1), "headers": [], "method": "POST"}
    body = ExportRequest(format="npz")
    plan = ExportPlan(body, [], "streamed", CREATED)

    async def disconnect() -> None:
        lines = exports_route._progress_lines(Request(scope), Authenticated(principal, "token"), body, plan)
        first = asyncio.ensure_future(lines.__anext__())
        assert await asyncio.to_thread(writing.wait, 10)
        first.cancel()  # the client went away: the response stops reading the lines
        with pytest.raises(asyncio.CancelledError):
            await first
        release.set()
        deadline = time.monotonic() + 10
        while not deployment.audit(AuditAction.EXPORT) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    run_in_fresh_loop(disconnect())  # the browser tests keep a loop running on this thread
    [record] = deployment.audit(AuditAction.EXPORT)
    assert (record.outcome, record.object_id, record.account) == (Outcome.OK, "streamed", "rita")
    assert export_dir(deployment.settings, "streamed").is_dir()
