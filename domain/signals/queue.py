"""The signal queue as operators see it: how much waits, how old the oldest is, what is parked."""

from __future__ import annotations

from datetime import UTC
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.core.vocabulary import SignalStatus
from storage.signal_models import SignalInstance
from storage.types import utcnow


async def queue_depth(session: AsyncSession) -> dict[str, Any]:
    """{"pending": n, "parked": n, "oldest_pending_seconds": s or None} (one query, uses the status index)."""
    rows = (await session.execute(
        select(col(SignalInstance.status), func.count(), func.min(col(SignalInstance.received_at)))
        .where(col(SignalInstance.status).in_((SignalStatus.PENDING, SignalStatus.PARKED))).group_by(col(SignalInstance.status)))).all()
    by_status = {status: (count, oldest) for status, count, oldest in rows}
    pending, oldest = by_status.get(SignalStatus.PENDING, (0, None))
    if oldest is not None and oldest.tzinfo is None:  # SQLite's min() returns the raw stored text, naive
        oldest = oldest.replace(tzinfo=UTC)
    age = round((utcnow() - oldest).total_seconds(), 1) if oldest is not None else None
    return {"pending": pending, "parked": by_status.get(SignalStatus.PARKED, (0, None))[0], "oldest_pending_seconds": age}


async def parked_instances(session: AsyncSession, limit: int = 50) -> list[SignalInstance]:
    """Parked instances, newest first, with their last error."""
    query = (select(SignalInstance).where(col(SignalInstance.status) == SignalStatus.PARKED)
             .order_by(col(SignalInstance.received_at).desc()).limit(limit))
    return list((await session.execute(query)).scalars())


async def requeue(session: AsyncSession, ids: list[str] | None = None) -> int:
    """Put parked instances (all, or those in `ids`) back in the queue with fresh attempts; commits. Returns how many."""
    stmt = (update(SignalInstance).where(col(SignalInstance.status) == SignalStatus.PARKED)
            .values(status=SignalStatus.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False))
    if ids is not None:
        stmt = stmt.where(col(SignalInstance.id).in_(ids))
    count = cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0
    await session.commit()
    return count
