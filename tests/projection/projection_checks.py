"""Helpers of the projection tests: the database per kind, the caller header, a full dump of every
projection query, log invariants."""

from __future__ import annotations

import os
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, select, text
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.storage_layout import iter_session_logs
from eventstore import read_log
from projections import migrate, queries
from projections.engine import make_engine
from projections.models import LogCheckpoint, RecordRow, SessionRow
from projections.store import Projection
from tests.fixtures.accounts import reader_of

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
    url = _database_of_this_worker(url)
    reset_database(url)
    return url


@cache
def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist (`make test` runs workers in parallel) each worker has a database of its own
    on the same server, created at its first use (asked once per worker): the tests reset the whole
    database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists.first() is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def as_user(client: TestClient, user_id: str) -> dict[str, str]:
    """Credentials that read as `user_id`: an account granted exactly that user."""
    return reader_of(client.app, user_id)


def dump(projection: Projection) -> dict[str, Any]:
    """Every query the read API can make, for every key the projection holds, plus the raw rows."""
    engine, store = projection.engine, projection.store
    with engine.connect() as conn:
        session_ids = list(
            conn.execute(select(SessionRow.session_id).order_by(SessionRow.session_id)).scalars()
        )
        user_ids = sorted(set(conn.execute(select(SessionRow.user_id)).scalars()))
        record_ids = list(conn.execute(select(RecordRow.record_id).order_by(RecordRow.record_id)).scalars())
        # log ids are given in the order logs were first seen, so rows name their log by path
        index = select(RecordRow.record_id, LogCheckpoint.path, RecordRow.log_offset, RecordRow.log_position)
        logs = select(LogCheckpoint.path, LogCheckpoint.end_offset, LogCheckpoint.position)
        tables = {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(query))
            for name, query in {
                "sessions": select(SessionRow.__table__),
                "record_index": index.join(LogCheckpoint, LogCheckpoint.log_id == RecordRow.log_id),
                "logs": logs,
            }.items()
        }
    return {
        "sessions": {sid: queries.session(engine, store, sid).model_dump() for sid in session_ids},
        "users": {
            uid: [s.model_dump() for s in queries.user_sessions(engine, store, uid, 10**9)[0]]
            for uid in user_ids
        },
        "records": {rid: queries.record(engine, store, rid).model_dump() for rid in record_ids},
        "tables": tables,
    }


def rebuilt_dump(settings: Settings, scratch: Path) -> dict[str, Any]:
    """`dump` of a projection rebuilt from the logs alone into a scratch SQLite database."""
    projection = Projection(replace(settings, db_url=f"sqlite:///{scratch / 'rebuilt.sqlite3'}"))
    try:
        projection.rebuild()
        return dump(projection)
    finally:
        projection.engine.dispose()


def assert_log_invariants(settings: Settings) -> None:
    """Each log: one start first, at most one end and nothing after it; record_ids unique across logs."""
    seen: set[str] = set()
    for path in iter_session_logs(settings):
        read = read_log(path)
        kinds = [event["event"] for event in read.events]
        assert kinds and kinds[0] == "session.start" and kinds.count("session.start") == 1, (path, kinds)
        assert kinds.count("session.end") <= 1, (path, kinds)
        if "session.end" in kinds:
            assert kinds[-1] == "session.end", f"event after the end in {path}: {kinds}"
        timestamps = [event["timestamp"] for event in read.events]
        assert timestamps == sorted(timestamps), (path, timestamps)
        for event in read.events:
            assert event["record_id"] not in seen, f"record_id {event['record_id']} used twice"
            seen.add(event["record_id"])
