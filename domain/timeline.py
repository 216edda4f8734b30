"""The one place incident timeline events are recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event
from storage.types import utcnow
from storage.upsert import upsert_insert

SOURCE_WARROOM = "Incident Participant"


async def record_event(
    session: AsyncSession,
    incident_id: int,
    description: str,
    *,
    source: str = "warroom",
    author_id: int | None = None,
    details: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    started_at: datetime | None = None,
) -> bool:
    """Add an event to the incident's timeline; with a `dedupe_key` it is recorded at most once.

    Returns whether a row was written. Does not commit.
    """
    now = utcnow()
    values = dict(
        incident_id=incident_id,
        description=description,
        source=source,
        author_id=author_id,
        details=details,
        dedupe_key=dedupe_key,
        started_at=started_at or now,
        created_at=now,
    )
    if dedupe_key is None:
        stmt = insert(Event).values(**values)
    else:
        stmt = upsert_insert(session, Event).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = await session.execute(stmt)
    return (result.rowcount or 0) > 0
