"""`a3cp accounts|tokens|audit` from the shell, a rebuild that leaves accounts and secrets as they were, and
no secret anywhere on disk or in any output."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from a3cp.accounts.directory import AccessDirectory, Decide
from a3cp.accounts.errors import AccountExists
from a3cp.accounts.events import AccessEvent, AccountCreated
from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.state import AccessState
from a3cp.cli import main
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout, access_log_path, credentials_path
from tests.accounts.conftest import CARER_PASSWORD, PASSWORD, SAME_ORIGIN
from web.app import create_app


@pytest.fixture
def shell(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's environment pointed at the test's roots."""
    monkeypatch.setenv("DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("LOG_ROOT", str(settings.log_root))
    monkeypatch.setenv("A3CP_DB_URL", settings.db_url)
    return settings


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    return out


def populate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """An admin and a carer granted u1 and u2 (u2 then revoked); returns the carer's new token."""
    run(
        monkeypatch,
        capsys,
        "accounts",
        "create",
        "boss",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )
    run(
        monkeypatch,
        capsys,
        "accounts",
        "create",
        "cara",
        "--role",
        "carer",
        "--password-stdin",
        stdin=CARER_PASSWORD + "\n",
    )
    run(monkeypatch, capsys, "accounts", "grant", "cara", "u1")
    run(monkeypatch, capsys, "accounts", "grant", "cara", "u2")
    run(monkeypatch, capsys, "accounts", "revoke", "cara", "u2")
    out = run(monkeypatch, capsys, "tokens", "create", "cara", "--expires", "30")
    return out.rstrip("\n").splitlines()[-1]


def test_accounts_and_tokens_from_the_shell(
    shell: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = populate(monkeypatch, capsys)
    assert token.startswith("a3cp_") and " " not in token
    listing = run(monkeypatch, capsys, "accounts", "list")
    assert "cara\tcarer\tactive\tgrants: u1" in listing and "2 accounts" in listing
    tokens = run(monkeypatch, capsys, "tokens", "list")
    token_id = token.split("_")[1]
    assert token_id in tokens and token not in tokens and "active" in tokens
    with TestClient(create_app(shell)) as client:
        me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["granted_users"] == ["u1"]
        run(monkeypatch, capsys, "tokens", "revoke", token_id)
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    run(monkeypatch, capsys, "accounts", "disable", "cara")
    assert "cara\tcarer\tdisabled" in run(monkeypatch, capsys, "accounts", "list")
    audit = run(monkeypatch, capsys, "audit", "--user", "u1")
    assert "grant_added" in audit and "1 audit records" in audit
    assert "token_revoked" in run(
        monkeypatch, capsys, "audit", "--account", "system", "--since", "2000-01-01"
    )


def test_refusals_are_one_line_on_stderr(
    shell: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("too short"))
    assert main(["accounts", "create", "x", "--role", "carer", "--password-stdin"]) == 1
    assert main(["accounts", "grant", "nobody", "u1"]) == 1
    err = capsys.readouterr().err
    assert "at least 12 characters" in err and "no account named 'nobody'" in err and "Traceback" not in err


def test_rebuild_restores_accounts_and_leaves_credentials(
    shell: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = populate(monkeypatch, capsys)
    before = AccountService.build(shell).state()
    secrets_file = credentials_path(shell)
    digest = hashlib.sha256(secrets_file.read_bytes()).hexdigest()
    run(monkeypatch, capsys, "rebuild", "--quiet")
    assert hashlib.sha256(secrets_file.read_bytes()).hexdigest() == digest
    after = AccountService.build(shell)
    assert after.state().accounts == before.accounts and after.state().tokens == before.tokens
    assert after.directory.reload().accounts == before.accounts  # a refold gives the same state
    assert after.principal_for_token(token) is not None
    assert after.login("cara", CARER_PASSWORD, "127.0.0.1").principal.granted_users == {"u1"}


def test_two_directories_on_one_log_cannot_both_create_a_name(settings: Settings) -> None:
    StorageLayout(settings).ensure_roots()
    first = AccessDirectory(access_log_path(settings, create_dir=True))
    second = AccessDirectory(access_log_path(settings))
    second.current()  # a second process that read the log before the first one wrote

    def create(role: Role) -> Decide:
        def decide(state: AccessState) -> AccessEvent:
            if state.account("x") is not None:
                raise AccountExists("exists")
            return AccountCreated(performer_id="system", account="x", role=role)

        return decide

    first.record(create(Role.CARER))
    with pytest.raises(AccountExists):
        second.record(create(Role.ADMIN))
    assert second.current().accounts["x"].role is Role.CARER


def _all_bytes(*roots: Path) -> bytes:
    return b"".join(p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file())


def test_no_secret_is_written_anywhere_or_printed(
    shell: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = populate(monkeypatch, capsys)
    with TestClient(create_app(shell)) as client:
        login = client.post(
            "/auth/login", json={"username": "cara", "password": CARER_PASSWORD}, headers=SAME_ORIGIN
        )
        cookie = login.cookies["a3cp_session"]
        client.post(
            "/auth/login", json={"username": "boss", "password": "a wrong password"}, headers=SAME_ORIGIN
        )
        client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        client.post("/auth/logout", headers=SAME_ORIGIN)
    secrets = [PASSWORD, CARER_PASSWORD, "a wrong password", token, token.split("_", 2)[2], cookie]
    stored = _all_bytes(shell.data_root, shell.log_root)
    assert stored and access_log_path(shell).exists()
    output = capsys.readouterr()
    printed = output.out + output.err + caplog.text
    for secret in secrets:
        assert secret.encode() not in stored, secret
        assert secret not in printed, secret
