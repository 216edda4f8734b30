"""On SQLite, a submission's store before its ack goes before transactions about to begin: SQLite gives its
write lock to whichever waiter polls first, so a burst of set-ups could otherwise hold an ack past Slack's 3 s."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import db
from storage.db import ack_engine, ack_write, create_engine, session_factory


@pytest.fixture
async def engines(db_url, db_backend):
    if db_backend != "sqlite":
        pytest.skip("Postgres hands out row locks in order: nothing to wait for")
    main, ack = create_engine(db_url), ack_engine(db_url)
    yield main, ack
    await main.dispose()
    await ack.dispose()


async def _begun(main) -> float:
    """Open a main-engine transaction; returns when it began (loop time)."""
    async with session_factory(main)() as session:
        await session.execute(text("SELECT 1"))
        began = asyncio.get_running_loop().time()
        await session.commit()
    return began


async def test_a_transaction_about_to_begin_waits_for_the_ack_write_in_flight(engines):
    main, ack = engines
    loop = asyncio.get_running_loop()
    async with ack_write(ack):
        waiting = asyncio.create_task(_begun(main))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "it waits while the ack's write is in flight"
        released = loop.time()
    assert await asyncio.wait_for(waiting, 2) >= released
    started = loop.time()
    await _begun(main)
    assert loop.time() - started < 0.2, "no ack in flight: no wait"


async def test_the_wait_is_bounded(engines, monkeypatch):
    main, ack = engines
    monkeypatch.setattr(db, "ACK_FIRST_MAX", 0.2)
    async with ack_write(ack):
        started = asyncio.get_running_loop().time()
        waited = await asyncio.wait_for(_begun(main), 2) - started
    assert 0.2 <= waited < 0.8, "an ack write that never ends delays a transaction by ACK_FIRST_MAX, never more"
