"""Projection test fixtures, run against SQLite and a real PostgreSQL (A3CP_TEST_PG_URL, set by .ci/run).

Without A3CP_TEST_PG_URL the PostgreSQL variants skip locally; under CI=true a skip fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from projection_checks import database_url
from starlette.testclient import TestClient

from a3cp.config import Settings
from web.app import create_app


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path: Path, db_kind: str) -> Settings:
    return Settings(
        data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url=database_url(db_kind, tmp_path)
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.services.projection.engine.dispose()
