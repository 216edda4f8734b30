"""On SQLite, a process's transactions take the write lock in turn, first come first served, and the turn passes
on the moment a transaction ends; a transaction nested in another waits a bounded time, never forever."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import db
from storage.db import create_engine, session_factory


@pytest.fixture
async def sessions(db_url, db_backend, monkeypatch):
    if db_backend != "sqlite":
        pytest.skip("Postgres hands out row locks in order: no turns to take")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # also the connections' busy_timeout
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_transactions_take_the_lock_in_the_order_they_asked_and_pass_it_on_at_once(sessions):
    events: list[str] = []
    loop = asyncio.get_running_loop()

    async def work(name: str, hold: float, end: str) -> float:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            began = loop.time()
            events.append(f"{name} in")
            await asyncio.sleep(hold)  # a transaction busy with its statements
            events.append(f"{name} out")
            await (session.commit() if end == "commit" else session.rollback())
        return began

    first = asyncio.create_task(work("a", 0.2, "rollback"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(work("b", 0.1, "commit"))
    await asyncio.sleep(0.01)
    third = asyncio.create_task(work("c", 0, "commit"))
    begun = await asyncio.gather(first, second, third)
    assert events == ["a in", "a out", "b in", "b out", "c in", "c out"], "one at a time, in the order they asked"
    assert begun[1] - begun[0] < 0.5, "the turn passes on as the transaction before ends, not after a timeout"


async def test_a_transaction_nested_in_another_is_refused_after_the_busy_timeout_instead_of_hanging(sessions):
    async with sessions() as outer:
        await outer.execute(text("SELECT 1"))
        with pytest.raises(OperationalError, match="locked"):
            async with sessions() as inner:
                await asyncio.wait_for(inner.execute(text("SELECT 1")), 5)
        await outer.rollback()
    async with sessions() as after:  # every turn was given back
        assert (await asyncio.wait_for(after.execute(text("SELECT 1")), 1)).scalar() == 1
