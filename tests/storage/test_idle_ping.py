"""Pooled Postgres connections are pinged before use only after a second idle: one that died in the pool
is replaced unseen; in steady use no ping is spent, and a connection that broke invalidates the pool."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.db import PING_AFTER_IDLE, ConnectionHealth, create_engine
from tests.conftest import BACKEND, PG_ADMIN_URL

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the SQLite engine has no pool to ping")


async def _terminate_connections(db_url: str) -> None:
    """As a database restart does to every connection warroom holds."""
    admin = await asyncpg.connect(make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = $1 AND pid <> pg_backend_pid()", make_url(db_url).database)
    finally:
        await admin.close()


async def _one(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 1"))).scalar_one()


async def test_a_connection_that_died_while_idle_in_the_pool_is_replaced_before_use(db_url):
    engine = create_engine(db_url, pool_size=1, max_overflow=0)
    try:
        assert await _one(engine) == 1
        await _terminate_connections(db_url)
        await asyncio.sleep(PING_AFTER_IDLE + 0.2)
        assert await _one(engine) == 1, "the dead connection was pinged, dropped and replaced"
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_one_that_broke_renews_the_pool(db_url):
    engine = create_engine(db_url, pool_size=2, max_overflow=0)
    try:
        async with engine.connect() as first, engine.connect() as second:  # two pooled connections
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
        await _terminate_connections(db_url)
        with pytest.raises(DBAPIError) as broke:
            await _one(engine)  # back in the pool a moment ago: used without a ping
        assert broke.value.connection_invalidated
        assert await _one(engine) == 1, "the other dead connection went with the pool's invalidation"
        assert await _one(engine) == 1
    finally:
        await engine.dispose()


async def test_once_one_engine_saw_the_database_go_the_engines_sharing_its_health_ping_before_use(db_url):
    health = ConnectionHealth()
    ack, main = (create_engine(db_url, pool_size=1, max_overflow=0, health=health) for _ in range(2))
    try:
        assert await _one(ack) == await _one(main) == 1
        await _terminate_connections(db_url)
        with pytest.raises(DBAPIError):
            await _one(ack)
        assert await _one(main) == 1, "pinged, though back in its pool a moment ago"
    finally:
        await ack.dispose()
        await main.dispose()
