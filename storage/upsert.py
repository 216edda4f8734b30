"""INSERT … ON CONFLICT for whichever database the session is on (SQLite or Postgres)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def upsert_insert(session: AsyncSession | AsyncConnection, table):
    """An `insert(table)` that supports `on_conflict_do_nothing/do_update` on the session's (or connection's) database."""
    dialect = session.dialect if isinstance(session, AsyncConnection) else session.bind.dialect
    return (pg_insert if dialect.name == "postgresql" else sqlite_insert)(table)
