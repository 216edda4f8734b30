"""Alembic environment for warroom (async engines; run via `storage.migrate` or the alembic CLI).

The URL comes from `config.attributes["url"]` (set by `storage.migrate`), else the ini's
`sqlalchemy.url`, else the `DATABASE_URL` environment variable. A caller holding an open sync
connection may pass it as `config.attributes["connection"]`. Safe to run from inside a running
event loop: the async part then runs in a worker thread.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.db import create_engine
from storage.migrate import context_options, run_blocking

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: pass one to storage.migrate or set DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (`alembic upgrade --sql`)."""
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **context_options())
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **context_options())
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        # Foreign keys are off while migrating (batch mode copies tables); check nothing broke.
        problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if problems:
            raise RuntimeError(f"migration left rows violating foreign keys: {problems[:10]}")


async def run_async_migrations() -> None:
    engine = create_engine(_url(), poolclass=NullPool, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        run_blocking(run_async_migrations)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
