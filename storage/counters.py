"""Named counters (incident numbers...): atomic increments that never hand out a number twice."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One statement, atomic on Postgres (the row lock serialises concurrent callers until commit) and
# on SQLite >= 3.35 (a single writer at a time): creates the counter at 1 or increments it.
_NEXT = text(
    "INSERT INTO counter (name, value) VALUES (:name, :count) "
    "ON CONFLICT (name) DO UPDATE SET value = counter.value + :count "
    "RETURNING value"
)


async def next_number(session: AsyncSession, name: str) -> int:
    """Increment counter `name` (creating it at 1) and return its new value.

    The increment belongs to the session's transaction: concurrent callers wait for it to end,
    so commit soon after. A rolled-back transaction gives its number back.
    """
    return (await next_numbers(session, name, 1))[0]


async def next_numbers(session: AsyncSession, name: str, count: int) -> list[int]:
    """Take `count` consecutive numbers of counter `name` in one statement (as `next_number` does one)."""
    result = await session.execute(_NEXT, {"name": name, "count": count})
    last = int(result.scalar_one())
    return list(range(last - count + 1, last + 1))
