"""Make a set-up attempt's lease run out at once, as if the process holding it died long ago.

Kept in one place: crash tests use it instead of waiting for the lease (`SETUP_LEASE`) to expire.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.incidents.service import SETUP_LEASE
from storage.models import Incident
from storage.types import utcnow


async def expire_setup_lease(sessions: async_sessionmaker[AsyncSession], incident_id: int | None = None) -> None:
    """Backdate the last set-up progress of one incident (default: all) beyond the lease."""
    query = update(Incident).values(updated_at=utcnow() - SETUP_LEASE - timedelta(seconds=1))
    if incident_id is not None:
        query = query.where(Incident.id == incident_id)
    async with sessions() as session:
        await session.execute(query)
        await session.commit()
