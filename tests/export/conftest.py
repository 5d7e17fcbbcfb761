"""One recorded world per test module, consent enforced: four people captured for real (MediaPipe on a
short real-person clip) and curated through the API, and the accounts that export.

- elias01: capture, store_face and research consent; three captures: one relabelled "drink", one
  discarded ("wrong person"), one with its capture-time annotation "wave".
- ben02: capture and store_face only (no research): one capture.
- cleo03: research given, then withdrawn after her capture (no erasure).
- dora04: research in force, but her capture was erased (store_face withdrawn with erasure).
Accounts: admin `boss`, carer `carer01` (granted all four), researcher `rita` (granted all four),
researcher `rolf` (granted ben02 only).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.accounts.settings import LoginLimits
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from bench.client import CAPTURE_PATH, multipart, start_session
from bench.person import person_frames
from tests.consent.conftest import FRAMES, PASSWORD, grant_body, short_meta
from tests.fixtures.accounts import FAST_HASHER
from web.app import create_app

USERS = ("elias01", "ben02", "cleo03", "dora04")
SECRETS = ("Maria Example", "wrong person", "changed their mind", "no face please", "carer01", "rita", "boss")


@dataclass
class World:
    settings: Settings
    client: TestClient
    tokens: dict[str, dict[str, str]]
    records: dict[str, list[str]] = field(default_factory=dict)  # user -> capture record_ids
    sessions: dict[str, str] = field(default_factory=dict)

    def post(self, account: str, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.tokens[account], **kwargs)

    def get(self, account: str, path: str) -> Any:
        return self.client.get(path, headers=self.tokens[account])

    def export(self, account: str = "rita", **body: Any) -> dict[str, Any]:
        response = self.post(account, "/exports", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def download(self, export_id: str, account: str = "rita") -> bytes:
        response = self.get(account, f"/exports/{export_id}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/x-tar"
        return bytes(response.content)


def members(archive: bytes) -> dict[str, bytes]:
    """path (without the archive's top folder) -> bytes of every file in an export archive."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        found = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None and member.name.startswith("a3cp-export/")
            found[member.name.removeprefix("a3cp-export/")] = handle.read()
    return found


def _capture(world: World, user: str, frames: tuple[bytes, ...], **overrides: Any) -> str:
    """One real capture; each is taken a minute after the last, its frames rotated one further, so no
    two captures have the same features file."""
    taken = sum(len(records) for records in world.records.values())
    times = {"timestamp_start": f"2026-11-24T10:{taken + 1:02d}:01.000Z"}
    times["timestamp_end"] = f"2026-11-24T10:{taken + 1:02d}:04.000Z"
    meta = short_meta(world.sessions[user], user_id=user, **times, **overrides)
    shown = frames[taken % len(frames) :] + frames[: taken % len(frames)]
    response = world.post("carer01", CAPTURE_PATH, files=multipart(meta, shown))
    assert response.status_code == 201, response.text
    return str(response.json()["record_id"])


def _consent(world: World, user: str, *scopes: str) -> None:
    response = world.post("carer01", f"/users/{user}/consent", json=grant_body(*scopes))
    assert response.status_code == 201, response.text


def _withdraw(world: World, user: str, scope: str, reason: str, erase: bool) -> None:
    body = {"scopes": [scope], "erase": erase, "reason": reason}
    response = world.post("carer01", f"/users/{user}/consent.withdraw", json=body)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp("export")
    settings = Settings(
        data_root=root / "data",
        log_root=root / "logs",
        db_url=f"sqlite:///{root / 'projection.sqlite3'}",
        consent_required=True,
    )
    StorageLayout(settings).ensure_roots()
    accounts = AccountService.build(settings, hasher=FAST_HASHER, limits=LoginLimits())
    for name, role in (("boss", Role.ADMIN), ("carer01", Role.CARER), ("rita", Role.RESEARCHER)):
        accounts.create_account(name, role, PASSWORD)
    accounts.create_account("rolf", Role.RESEARCHER, PASSWORD)
    for user in USERS:
        accounts.grant("carer01", user)
        accounts.grant("rita", user)
    accounts.grant("rolf", "ben02")
    tokens = {
        name: {"Authorization": f"Bearer {accounts.issue_token(name)[0]}"}
        for name in ("boss", "carer01", "rita", "rolf")
    }
    app = create_app(settings)
    app.state.accounts = accounts
    frames = tuple(person_frames(FRAMES))
    with TestClient(app) as client:
        world = World(settings, client, tokens)
        consents = {"ben02": ("capture", "store_face")}
        for user in USERS:
            _consent(world, user, *consents.get(user, ("capture", "store_face", "research")))
            world.sessions[user] = start_session(_Carer(world), user)
        for user in USERS:
            world.records[user] = []
        for overrides in ({}, {}, {"annotation": {"intent": "wave"}}):
            world.records["elias01"].append(_capture(world, "elias01", frames, **overrides))
        for user in USERS[1:]:
            world.records[user].append(_capture(world, user, frames))
        drink, discarded, _ = world.records["elias01"]
        assert world.post("carer01", f"/records/{drink}/label", json={"label": "drink"}).status_code == 200
        response = world.post("carer01", f"/records/{discarded}/discard", json={"reason": "wrong person"})
        assert response.status_code == 200
        _withdraw(world, "cleo03", "research", "changed their mind", erase=False)
        _withdraw(world, "dora04", "store_face", "no face please", erase=True)
        yield world
    app.state.services.projection.engine.dispose()


class _Carer:
    """bench.client's helpers post through an httpx-like client: this one signs them as carer01."""

    def __init__(self, world: World) -> None:
        self._world = world

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._world.post("carer01", path, **kwargs)
