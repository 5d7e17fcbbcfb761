"""Who may still list, download and delete an export, that the server stops holding an export its
people no longer allow (a3cp.export.retention), and that every export request is audited, without
MediaPipe: exports of nothing written for real, and exports of named users (research consent given) made
through the audit trail as `record_export` writes it."""

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
from a3cp.export.retention import RETIRING, retire_stale
from a3cp.export.service import ExportOutcome, ExportPlan, record_export
from a3cp.schemas import AuditAction, AuditRecord, ConsentGrantInput, ExportRequest, Outcome, utc_now
from a3cp.storage_layout import StorageLayout, export_dir, exports_dir
from bench.client import consent_body
from tests.fixtures.accounts import FAST_HASHER
from tests.fixtures.cli import run_cli
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

    def made(self, export_id: str, account: str, users: list[str], created_at: str = CREATED) -> None:
        """An export of `users` by `account`, as the writer leaves it and the audit trail records it
        (each user's research consent given first: the export took their captures under it)."""
        for user in users:
            grant = ConsentGrantInput.model_validate(consent_body("research"))
            self.app.state.services.consent.grant(user, "boss", grant)
        root = export_dir(self.settings, export_id)
        root.mkdir(parents=True)
        (root / "README.md").write_bytes(b"an export\n")
        outcome = ExportOutcome(export_id, created_at, root, {"captures_count": len(users)}, users)
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


def test_the_maker_or_an_admin_deletes_an_export_and_it_is_gone(deployment: Deployment) -> None:
    deployment.made("mine", "rita", ["elias01"])
    deployment.made("theirs", "rita", ["ben02"])
    deployment.accounts.create_account("rolf", Role.RESEARCHER, PASSWORD)
    deployment.accounts.grant("rolf", "elias01")
    not_maker = deployment.client.delete("/exports/mine", headers=deployment.headers("rolf"))
    assert not_maker.status_code == 404, not_maker.text  # another researcher's export looks missing

    deleted = deployment.client.delete("/exports/mine", headers=deployment.headers("rita"))
    assert deleted.status_code == 200 and deleted.json() == {"export_id": "mine", "deleted": True}
    assert not export_dir(deployment.settings, "mine").exists()
    assert listed(deployment, "rita") == ["theirs"]
    assert deployment.client.get("/exports/mine", headers=deployment.headers("rita")).status_code == 404
    again = deployment.client.delete("/exports/mine", headers=deployment.headers("rita"))
    assert again.status_code == 404
    assert deployment.client.delete("/exports/theirs", headers=deployment.headers("boss")).status_code == 200
    records = deployment.audit(AuditAction.EXPORT_DELETED)
    done = [(r.account, r.object_id, r.user_id) for r in records if r.outcome is Outcome.OK]
    assert done == [("rita", "mine", "elias01"), ("boss", "theirs", "ben02")]
    refused = [(r.account, r.outcome) for r in records if r.outcome is not Outcome.OK]
    assert refused == [("rolf", Outcome.NOT_FOUND), ("rita", Outcome.NOT_FOUND)]
    bad = deployment.client.delete("/exports/not!safe", headers=deployment.headers("rita"))
    assert bad.status_code == 400 and "export_id" in bad.text


def test_a_withdrawal_or_erasure_deletes_the_server_copies_holding_that_person(
    deployment: Deployment,
) -> None:
    deployment.made("elias", "rita", ["elias01"])
    deployment.made("ben", "rita", ["ben02"])
    deployment.made("both", "rita", ["ben02", "elias01"])
    boss = deployment.headers("boss")
    erased = deployment.client.post("/users/elias01/erasure", json={"reason": "asked"}, headers=boss)
    assert erased.status_code == 200, erased.text
    assert not export_dir(deployment.settings, "elias").exists()
    assert not export_dir(deployment.settings, "both").exists()
    assert export_dir(deployment.settings, "ben").is_dir()
    assert listed(deployment, "rita") == ["ben"]
    retired = [r for r in deployment.audit(AuditAction.EXPORT_DELETED) if r.account == "system"]
    assert sorted({r.object_id for r in retired}) == ["both", "elias"]
    assert all("research consent" in (r.details or {})["reason"] for r in retired)


def test_an_erasure_asked_after_the_export_retires_it_though_research_stays(deployment: Deployment) -> None:
    deployment.made("elias", "rita", ["elias01"])
    consent = deployment.app.state.services.consent
    consent.withdraw_scopes("elias01", "boss", ["store_face"], "no face", True)  # no route: found lazily
    assert export_dir(deployment.settings, "elias").is_dir()  # nothing retired it yet (a crash, say)
    assert deployment.client.get("/exports/elias", headers=deployment.headers("rita")).status_code == 404
    assert not export_dir(deployment.settings, "elias").exists()
    [record] = [r for r in deployment.audit(AuditAction.EXPORT_DELETED) if r.account == "system"]
    assert "erasure" in (record.details or {})["reason"]


def test_an_export_made_after_an_erasure_is_kept(deployment: Deployment) -> None:
    consent = deployment.app.state.services.consent
    deployment.made("first", "rita", ["elias01"])
    consent.withdraw_scopes("elias01", "boss", ["store_face"], None, True)
    deployment.made("second", "rita", ["elias01"], utc_now())  # after the erasure: cannot hold what went
    kept = retire_stale(deployment.settings, deployment.accounts.audit, consent, utc_now())
    assert [export.export_id for export in kept.kept] == ["second"] and kept.retired == ["first"]


def test_a_half_deleted_export_folder_is_removed_by_the_next_retirement(deployment: Deployment) -> None:
    leftover = exports_dir(deployment.settings) / f"{RETIRING}gone-0123"
    (leftover / "data").mkdir(parents=True)
    assert listed(deployment, "rita") == []
    assert not leftover.exists()


def test_verify_repair_deletes_an_export_its_people_no_longer_allow(deployment: Deployment) -> None:
    deployment.made("elias", "rita", ["elias01"])
    deployment.made("ben", "rita", ["ben02"])
    deployment.app.state.services.consent.withdraw_scopes("elias01", "boss", ["research"], None, False)
    repaired = run_cli(deployment.settings, "verify", "--repair")
    assert "deleted export elias" in repaired.stdout, repaired.stdout + repaired.stderr
    assert not export_dir(deployment.settings, "elias").exists()
    assert export_dir(deployment.settings, "ben").is_dir()
