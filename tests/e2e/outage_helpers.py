"""The database going away under a running warroom, for real: on SQLite another connection holds the
write lock (every warroom transaction begins IMMEDIATE, so each one waits on it); on Postgres the
database refuses new connections and every open one is terminated."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND, PG_ADMIN_URL


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def database_down(db_url: str) -> AsyncIterator[None]:
    """While inside, warroom cannot read or write its database; afterwards it can again."""
    if BACKEND == "sqlite":
        holder = sqlite3.connect(make_url(db_url).database, isolation_level=None, timeout=0)
        for _ in range(2000):  # never block the loop: warroom, on it, may be the one holding the lock
            try:
                holder.execute("BEGIN EXCLUSIVE")
                break
            except sqlite3.OperationalError:
                await asyncio.sleep(0.005)
        else:
            raise TimeoutError("could not take the database's write lock")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    name = make_url(db_url).database
    admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        try:
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


async def vanish_row(db_url: str, table: str, row_id: int) -> None:
    """The row disappears behind warroom's back (e.g. a restore from an older backup), whatever refers to it.
    On SQLite the delete runs in a thread: warroom, on this event loop, may hold the write lock in a
    transaction that needs the loop to finish."""
    if BACKEND == "sqlite":
        def delete() -> None:
            conn = sqlite3.connect(make_url(db_url).database, isolation_level=None, timeout=10)
            try:
                conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (row_id,))  # foreign keys are off here
            finally:
                conn.close()

        await asyncio.to_thread(delete)
        return
    conn = await asyncpg.connect(_dsn(db_url))
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(f'DELETE FROM "{table}" WHERE id = $1', row_id)
    finally:
        await conn.close()
