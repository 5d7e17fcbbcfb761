"""Fixtures of the consent tests: consent enforced, a carer `carer01` (granted USER; the client's
default credentials) and an admin with API tokens, and helpers to grant or withdraw consent and to
post a short real capture."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.settings import LoginLimits
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from bench.client import CAPTURE_PATH, USER, capture_meta, multipart
from bench.person import person_frames
from web.app import create_app

PASSWORD = "correct horse battery"
CONSENT_TEXT = "I agree that my gestures are recorded as landmark features."
FRAMES = 6  # 3 s at 2 fps: the shortest real capture the policy accepts, cheap for MediaPipe


def grant_body(*scopes: str, **fields: Any) -> dict[str, Any]:
    return {
        "scopes": list(scopes),
        "grantor": "Maria Example",
        "relationship": "parent",
        "method": "written",
        "text_id": "consent-gestures",
        "text_version": "2026-11",
        "text_sha256": hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
        "language": "en",
        **fields,
    }


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, consent_required=True)


@pytest.fixture
def accounts(settings: Settings) -> AccountService:
    StorageLayout(settings).ensure_roots()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    service = AccountService.build(settings, hasher=hasher, limits=LoginLimits())
    service.create_account("boss", Role.ADMIN, PASSWORD)
    service.create_account("carer01", Role.CARER, PASSWORD)
    service.create_account("rita", Role.RESEARCHER, PASSWORD)
    service.grant("carer01", USER)
    return service


@pytest.fixture
def client(settings: Settings, accounts: AccountService) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.accounts = accounts
    # Signed in as the carer by default: bench's request builders name `carer01` as performer.
    with TestClient(app, headers=_bearer(accounts, "carer01")) as test_client:
        yield test_client
    app.state.services.projection.engine.dispose()


def _bearer(accounts: AccountService, name: str) -> dict[str, str]:
    token, _ = accounts.issue_token(name)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def carer(accounts: AccountService) -> dict[str, str]:
    return _bearer(accounts, "carer01")


@pytest.fixture
def admin(accounts: AccountService) -> dict[str, str]:
    return _bearer(accounts, "boss")


@pytest.fixture
def stranger(accounts: AccountService) -> dict[str, str]:
    """A researcher with no grant for USER."""
    return _bearer(accounts, "rita")


@pytest.fixture
def grant(client: TestClient, carer: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def do(*scopes: str, user_id: str = USER) -> dict[str, Any]:
        response = client.post(f"/users/{user_id}/consent", json=grant_body(*scopes), headers=carer)
        assert response.status_code == 201, response.text
        return dict(response.json()["event"])

    return do


@pytest.fixture
def withdraw(client: TestClient, carer: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def do(*scopes: str, erase: bool = False, user_id: str = USER) -> dict[str, Any]:
        body = {"scopes": list(scopes), "erase": erase, "reason": "changed their mind"}
        response = client.post(f"/users/{user_id}/consent.withdraw", json=body, headers=carer)
        assert response.status_code == 200, response.text
        return dict(response.json())

    return do


@pytest.fixture(scope="session")
def frames() -> tuple[bytes, ...]:
    return tuple(person_frames(FRAMES))


def short_meta(session_id: str, **overrides: Any) -> dict[str, Any]:
    return capture_meta(session_id, FRAMES, fps=2, **overrides)


@pytest.fixture
def post_capture(client: TestClient, frames: tuple[bytes, ...]) -> Callable[..., Any]:
    def post(session_id: str, **overrides: Any) -> Any:
        return client.post(CAPTURE_PATH, files=multipart(short_meta(session_id, **overrides), frames))

    return post
