"""`next_number` hands out each number once, even to concurrent callers."""

import asyncio

from storage.counters import next_number


async def test_starts_at_one_and_increments(session):
    assert [await next_number(session, "incident") for _ in range(3)] == [1, 2, 3]
    assert await next_number(session, "case") == 1
    await session.commit()


async def test_rollback_gives_the_number_back(session_factory):
    async with session_factory() as session:
        assert await next_number(session, "incident") == 1
        await session.rollback()
    async with session_factory() as session:
        assert await next_number(session, "incident") == 1


async def test_fifty_concurrent_callers_get_distinct_numbers(session_factory):
    # Postgres: 15 pooled connections contend for the row lock. SQLite: writers queue on busy_timeout.
    async def take() -> int:
        async with session_factory() as session:
            number = await next_number(session, "incident")
            await asyncio.sleep(0)  # hold the row lock across a scheduling point
            await session.commit()
            return number

    numbers = await asyncio.gather(*(take() for _ in range(50)))
    assert sorted(numbers) == list(range(1, 51))
