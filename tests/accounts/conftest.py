"""Fixtures of the accounts tests: a fast Argon2id hasher, a clock the test moves, the service, an app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.settings import LoginLimits
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from web.app import create_app

ORIGIN = "http://testserver"  # TestClient's own origin
SAME_ORIGIN = {"Origin": ORIGIN}
PASSWORD = "correct horse battery"  # ≥ 12 characters
CARER_PASSWORD = "carer password 123"


@dataclass
class FakeClock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    """Still Argon2id, with the cheapest parameters: the tests check behaviour, not cost."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def accounts(settings: Settings, clock: FakeClock, fast_hasher: PasswordHasher) -> AccountService:
    StorageLayout(settings).ensure_roots()
    return AccountService.build(settings, clock=clock, hasher=fast_hasher, limits=LoginLimits())


@pytest.fixture
def app_client(settings: Settings, accounts: AccountService) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.accounts = accounts
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def people(accounts: AccountService) -> AccountService:
    """An admin, a carer granted u1, a researcher granted u2."""
    accounts.create_account("boss", Role.ADMIN, PASSWORD)
    accounts.create_account("cara", Role.CARER, CARER_PASSWORD)
    accounts.create_account("rita", Role.RESEARCHER, PASSWORD)
    accounts.grant("cara", "u1")
    accounts.grant("rita", "u2")
    return accounts


def login(client: TestClient, username: str, password: str) -> None:
    """Log `client` in by JSON (its cookie jar keeps the session)."""
    response = client.post(
        "/auth/login", json={"username": username, "password": password}, headers=SAME_ORIGIN
    )
    assert response.status_code == 200, response.text
