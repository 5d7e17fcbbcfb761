"""Engines for the projection database: SQLite gets WAL and explicit write locks, PostgreSQL is used as is.

SQLite: the driver's own transaction handling is switched off so that every transaction starts with
an explicit BEGIN, and connections opened with `WRITE` start with BEGIN IMMEDIATE (the database
write lock), which serialises catch-up between processes; readers keep working thanks to WAL.
PostgreSQL: writers lock their checkpoint row (SELECT ... FOR UPDATE) instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

WRITE = {"a3cp_write": True}
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL")


def make_engine(url: str) -> Engine:
    """An engine for `url` (sqlite:/// or postgresql+psycopg://)."""
    sqlite = url.startswith("sqlite")
    # A file needs no liveness check before each use (a ping per checkout was 2% of the request path,
    # bench.api --profile); a lost or replaced file is the LossGuard's. A database server can drop
    # pooled connections, so those are pinged.
    engine = create_engine(url, pool_pre_ping=not sqlite)
    if sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("a3cp_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
