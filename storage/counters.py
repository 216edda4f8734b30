"""Named counters (incident numbers...): atomic increments that never hand out a number twice."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One statement, atomic on Postgres (the row lock serialises concurrent callers until commit) and
# on SQLite >= 3.35 (a single writer at a time): creates the counter at 1 or increments it.
_NEXT = text(
    "INSERT INTO counter (name, value) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 "
    "RETURNING value"
)


async def next_number(session: AsyncSession, name: str) -> int:
    """Increment counter `name` (creating it at 1) and return its new value.

    The increment belongs to the session's transaction: concurrent callers wait for it to end,
    so commit soon after. A rolled-back transaction gives its number back.
    """
    result = await session.execute(_NEXT, {"name": name})
    return int(result.scalar_one())
