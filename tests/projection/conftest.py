"""Projection test fixtures, run against SQLite and a real PostgreSQL (A3CP_TEST_PG_URL, set by .ci/run).

Without A3CP_TEST_PG_URL the PostgreSQL variants skip locally; under CI=true a skip fails the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from projection_checks import database_url

from a3cp.config import Settings


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path: Path, db_kind: str) -> Settings:
    return Settings(
        data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url=database_url(db_kind, tmp_path)
    )
