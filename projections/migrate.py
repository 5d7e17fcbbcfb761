"""Alembic from code: bring the projection schema to head (the app does this on start) or drop it.

The migration scripts live in `alembic/` at the repository root (`alembic upgrade head` works there
too); upgrades run under a write lock so several processes starting at once migrate exactly once.
The scripts are loaded once per process: a rebuild upgrades from an empty schema each time, and
loading them again (Alembic compiles every script file it loads) was most of a small rebuild's time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import ScriptDirectory
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


@cache
def _scripts() -> ScriptDirectory:
    """This repository's migration scripts, loaded at first use (the URL plays no part in them)."""
    return ScriptDirectory.from_config(alembic_config(""))


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` in one locked transaction (a no-op when already at head)."""
    scripts = _scripts()

    def steps_to_head(current: str, _context: MigrationContext) -> list[RevisionStep]:
        return scripts._upgrade_revs("head", current)  # as `alembic.command.upgrade` does

    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        config = alembic_config(engine.url.render_as_string(hide_password=False), connection)
        with EnvironmentContext(config, scripts, fn=steps_to_head, destination_rev="head"):
            scripts.run_env()


def drop(engine: Engine) -> None:
    """Drop every projection table and Alembic's version table."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        Base.metadata.drop_all(connection)
        Table("alembic_version", MetaData()).drop(connection, checkfirst=True)
