"""The signal queue as operators see it: how much waits, how old the oldest is, what is parked."""

from __future__ import annotations

from datetime import timezone

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.signal_models import PARKED, PENDING, SignalInstance
from storage.types import utcnow


async def queue_depth(session: AsyncSession) -> dict:
    """{"pending": n, "parked": n, "oldest_pending_seconds": s or None} (one query, uses the status index)."""
    rows = (await session.execute(
        select(SignalInstance.status, func.count(), func.min(SignalInstance.received_at))
        .where(SignalInstance.status.in_((PENDING, PARKED))).group_by(SignalInstance.status))).all()
    by_status = {status: (count, oldest) for status, count, oldest in rows}
    pending, oldest = by_status.get(PENDING, (0, None))
    if oldest is not None and oldest.tzinfo is None:  # SQLite's min() returns the raw stored text, naive
        oldest = oldest.replace(tzinfo=timezone.utc)
    age = round((utcnow() - oldest).total_seconds(), 1) if oldest is not None else None
    return {"pending": pending, "parked": by_status.get(PARKED, (0, None))[0], "oldest_pending_seconds": age}
