"""Projection test fixtures, run against SQLite and a real PostgreSQL (A3CP_TEST_PG_URL, set by .ci/run).

Without A3CP_TEST_PG_URL the PostgreSQL variants skip locally; under CI=true a skip fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from projections import migrate
from projections.engine import make_engine
from web.app import create_app

PG_URL_ENV = "A3CP_TEST_PG_URL"


def reset_database(url: str) -> None:
    """Drop every projection table (PostgreSQL is shared between tests; SQLite files are per test)."""
    engine = make_engine(url)
    try:
        migrate.drop(engine)
    finally:
        engine.dispose()


def database_url(kind: str, directory: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'projection.sqlite3'}"
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set (.ci/run starts a throwaway PostgreSQL and sets it)")
    reset_database(url)
    return url


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
