"""A pooled Postgres connection is checked when it is handed out again, in one round trip: a live one is reused,
one the server killed (a restart, a failover) is replaced before anyone's statement runs on it."""

from __future__ import annotations

import asyncpg
import pytest
from asyncpg.exceptions import InternalClientError
from sqlalchemy import text

from storage.db import create_engine
from tests.conftest import PG_ADMIN_URL, _asyncpg_dsn


@pytest.fixture
async def engine(db_url, db_backend):
    if db_backend != "postgres":
        pytest.skip("SQLite has no connections to lose")
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


async def _backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_live_connection_is_reused_after_one_query(engine):
    async with engine.connect() as conn:
        first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        driver = (await conn.get_raw_connection()).driver_connection
    seen: list[str] = []
    driver.add_query_logger(lambda record: seen.append(record.query))  # while it sits in the pool
    assert await _backend_pid(engine) == first, "the pool reuses its one connection"
    assert seen[0] == "SELECT 1", "checked with one query as it is handed out"
    assert ";" not in seen, "not with pre-ping's BEGIN, empty query, ROLLBACK"


async def test_a_connection_the_server_killed_is_replaced_before_use(engine):
    dead = await _backend_pid(engine)
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", dead)
    finally:
        await admin.close()
    assert await _backend_pid(engine) != dead, "the statement ran on a new connection, without an error"


async def test_a_connection_left_mid_query_is_replaced_alone(engine, monkeypatch):
    """A backend the server is terminating can still look open, its protocol waiting for the end of an error:
    asyncpg then refuses any query on it. The checkout replaces that connection and only that one."""
    async with engine.connect() as conn:
        stuck = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        driver = (await conn.get_raw_connection()).driver_connection
    real = asyncpg.connection.Connection.execute

    async def execute(self, query, *args, **kwargs):
        if self is driver:
            raise InternalClientError("cannot switch to state 15; another operation (2) is in progress")
        return await real(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "execute", execute)
    assert await _backend_pid(engine) != stuck, "a new connection, without an error"
