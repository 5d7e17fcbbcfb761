"""Alembic environment: the projection metadata, and the database URL from Settings (A3CP_DB_URL).

Code (projections.migrate) passes an open connection in `config.attributes["connection"]`; the
command line builds its own engine from the URL.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from projections.engine import WRITE, make_engine
from projections.models import Base

config = context.config
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().db_url
    if url.startswith("sqlite:///"):
        StorageLayout(Settings.from_env()).ensure_roots()
    engine = make_engine(url)
    with engine.connect().execution_options(**WRITE) as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
