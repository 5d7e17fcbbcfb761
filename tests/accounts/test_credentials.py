"""The credentials store and the account service over it: hashes, login sessions, throttling, setup link."""

from __future__ import annotations

import sqlite3

import pytest

from a3cp.accounts.errors import (
    AccountExists,
    InvalidCredentials,
    SetupUnavailable,
    Throttled,
    WeakPassword,
)
from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.settings import LoginLimits
from tests.accounts.conftest import CARER_PASSWORD, PASSWORD, FakeClock


def _rows(accounts: AccountService, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(accounts.credentials.path) as db:
        return db.execute(sql).fetchall()


def test_passwords_are_stored_as_argon2id_hashes(people: AccountService) -> None:
    hashes = [row[0] for row in _rows(people, "SELECT hash FROM passwords")]
    assert len(hashes) == 3 and all(str(h).startswith("$argon2id$") for h in hashes)
    assert people.credentials.verify_password("cara", CARER_PASSWORD)
    assert not people.credentials.verify_password("cara", PASSWORD)
    assert not people.credentials.verify_password("nobody", PASSWORD)


def test_short_passwords_and_duplicate_names_are_refused(accounts: AccountService) -> None:
    with pytest.raises(WeakPassword) as weak:
        accounts.create_account("cara", Role.CARER, "eleven char")
    assert weak.value.field == "password"
    accounts.create_account("cara", Role.CARER, PASSWORD)
    with pytest.raises(AccountExists):
        accounts.create_account("cara", Role.ADMIN, PASSWORD)
    assert accounts.state().accounts["cara"].role is Role.CARER


def test_tokens_are_stored_only_as_hashes_and_work_until_revoked(people: AccountService) -> None:
    token, state = people.issue_token("cara")
    stored = _rows(people, "SELECT token_hash, token_id FROM tokens")
    assert stored == [(stored[0][0], state.token_id)] and token not in str(stored)
    principal = people.principal_for_token(token)
    assert principal is not None and principal.account == "cara" and principal.granted_users == {"u1"}
    assert people.principal_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    people.revoke_token(state.token_id)
    assert people.principal_for_token(token) is None
    assert people.state().tokens[state.token_id].revoked


def test_tokens_expire_and_die_with_their_account(people: AccountService, clock: FakeClock) -> None:
    short, _ = people.issue_token("cara", expires_days=1)
    lasting, _ = people.issue_token("cara")
    clock.advance(86400 + 1)
    assert people.principal_for_token(short) is None
    assert people.principal_for_token(lasting) is not None
    people.disable("cara")
    assert people.principal_for_token(lasting) is None


def test_login_session_idle_timeout(people: AccountService, clock: FakeClock) -> None:
    done = people.login("cara", CARER_PASSWORD, "10.0.0.5")
    idle = people.credentials.limits.idle_timeout_s
    clock.advance(idle - 1)
    assert people.principal_for_session(done.session_id) is not None  # and the idle clock restarts
    clock.advance(idle - 1)
    assert people.principal_for_session(done.session_id) is not None
    clock.advance(idle + 1)
    assert people.principal_for_session(done.session_id) is None


def test_login_session_absolute_timeout(people: AccountService, clock: FakeClock) -> None:
    done = people.login("cara", CARER_PASSWORD, "10.0.0.5")
    limits = people.credentials.limits
    step = limits.idle_timeout_s / 2
    while clock.now + step < done.session.created_at + limits.absolute_timeout_s:
        clock.advance(step)
        assert people.principal_for_session(done.session_id) is not None
    clock.advance(step)
    assert people.principal_for_session(done.session_id) is None


def test_logout_ends_the_session(people: AccountService) -> None:
    done = people.login("cara", CARER_PASSWORD, "10.0.0.5")
    people.logout(done.session_id, "10.0.0.5")
    assert people.principal_for_session(done.session_id) is None


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disable_or_password_change_ends_every_session(people: AccountService, change: str) -> None:
    sessions = [people.login("cara", CARER_PASSWORD, f"10.0.0.{n}").session_id for n in range(3)]
    other = people.login("rita", PASSWORD, "10.0.0.9").session_id
    if change == "disable":
        people.disable("cara")
    else:
        people.change_password("cara", "a brand new passphrase")
    assert all(people.principal_for_session(s) is None for s in sessions)
    assert people.principal_for_session(other) is not None
    if change == "password":
        assert people.login("cara", "a brand new passphrase", "10.0.0.1").principal.account == "cara"
    else:
        with pytest.raises(InvalidCredentials):
            people.login("cara", CARER_PASSWORD, "10.0.0.1")


def test_failed_logins_are_throttled_per_account(people: AccountService, clock: FakeClock) -> None:
    limits = people.credentials.limits
    for attempt in range(limits.max_failures):
        with pytest.raises(InvalidCredentials):
            people.login("cara", "wrong password!", f"10.0.1.{attempt}")  # a new address each time
    with pytest.raises(Throttled) as throttled:
        people.login("cara", CARER_PASSWORD, "10.0.2.1")  # even the right password waits
    assert 0 < throttled.value.retry_after_s <= limits.failure_window_s
    clock.advance(throttled.value.retry_after_s)
    assert people.login("cara", CARER_PASSWORD, "10.0.2.1").principal.account == "cara"


def test_failed_logins_are_throttled_per_client_address(people: AccountService) -> None:
    for name in ["boss", "cara", "rita", "nobody", "x"][: people.credentials.limits.max_failures]:
        with pytest.raises(InvalidCredentials):
            people.login(name, "wrong password!", "10.0.0.66")
    with pytest.raises(Throttled):
        people.login("rita", PASSWORD, "10.0.0.66")
    assert people.login("rita", PASSWORD, "10.0.0.67").principal.account == "rita"


def test_logins_are_audited(people: AccountService) -> None:
    people.login("cara", CARER_PASSWORD, "10.0.0.5")
    with pytest.raises(InvalidCredentials):
        people.login("cara", "wrong password!", "10.0.0.5")
    with pytest.raises(InvalidCredentials):
        people.login("bad name!", "wrong password!", "10.0.0.5")
    records = [r for r in people.audit.read() if r.action in {"login", "login_failed"}]
    summary = [(r.action, r.outcome, r.account, r.performer_id, r.client) for r in records]
    assert summary == [
        ("login", "ok", "cara", "cara", "10.0.0.5"),
        ("login_failed", "failed", "cara", "anonymous", "10.0.0.5"),
        ("login_failed", "failed", None, "anonymous", "10.0.0.5"),
    ]


def test_setup_link_is_one_time_and_expires(accounts: AccountService, clock: FakeClock) -> None:
    stale = accounts.issue_setup_link()
    assert stale is not None
    clock.advance(3601)
    assert not accounts.setup_link_valid(stale)
    with pytest.raises(SetupUnavailable):
        accounts.complete_setup(stale, "boss", PASSWORD, "127.0.0.1")
    secret = accounts.issue_setup_link()
    assert secret is not None
    admin = accounts.complete_setup(secret, "boss", PASSWORD, "127.0.0.1")
    assert admin.role is Role.ADMIN
    assert not accounts.setup_link_valid(secret)
    assert accounts.issue_setup_link() is None  # an account exists: no more setup links


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A3CP_LOGIN_IDLE_S", "60")
    monkeypatch.setenv("A3CP_LOGIN_ABSOLUTE_S", "600")
    limits = LoginLimits.from_env()
    assert (limits.idle_timeout_s, limits.absolute_timeout_s) == (60.0, 600.0)
    assert LoginLimits().idle_timeout_s == 1800.0 and LoginLimits().absolute_timeout_s == 43200.0


def test_a_login_in_use_is_written_at_most_once_a_minute(people: AccountService, clock: FakeClock) -> None:
    done = people.login("cara", CARER_PASSWORD, "10.0.0.5")

    def recorded_last_use() -> object:
        return _rows(people, "SELECT last_seen FROM login_sessions")[0][0]

    clock.advance(30)
    assert people.principal_for_session(done.session_id) is not None
    assert recorded_last_use() == done.session.created_at  # a read, no write
    clock.advance(31)
    people.principal_for_session(done.session_id)
    assert recorded_last_use() == clock.now
