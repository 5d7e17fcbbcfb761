"""Alembic from code: bring the projection schema to head (the app does this on start) or drop it.

The migration scripts live in `alembic/` at the repository root (`alembic upgrade head` works there
too); upgrades run under a write lock so several processes starting at once migrate exactly once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, Table

from projections.engine import WRITE
from projections.models import Base

REPO_ROOT = Path(__file__).resolve().parent.parent
_PG_MIGRATION_LOCK = 0x0A3C9


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """The Alembic config of this repository, pointed at `url` (and an open connection, if given)."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` in one locked transaction (a no-op when already at head)."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        command.upgrade(alembic_config(engine.url.render_as_string(hide_password=False), connection), "head")


def drop(engine: Engine) -> None:
    """Drop every projection table and Alembic's version table."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        Base.metadata.drop_all(connection)
        Table("alembic_version", MetaData()).drop(connection, checkfirst=True)
