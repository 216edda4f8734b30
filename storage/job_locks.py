"""A lease per job name, so that several bot processes never run the same job at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.job_models import JobRun
from storage.types import utcnow
from storage.upsert import upsert_insert


async def acquire(
    session: AsyncSession, name: str, holder: str, lease: timedelta, min_gap: timedelta | None = None
) -> bool:
    """Take the job's lease if it is free or expired (one atomic statement); commits.

    With `min_gap`, also only if the last run started at least that long ago (daily jobs run
    once a day however many processes fire them).
    """
    now = utcnow()
    free = (JobRun.locked_until.is_(None)) | (JobRun.locked_until < now)
    if min_gap is not None:
        free = free & (JobRun.last_started_at.is_(None) | (JobRun.last_started_at < now - min_gap))
    stmt = upsert_insert(session, JobRun).values(
        name=name, holder=holder, locked_until=now + lease, last_started_at=now, runs=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "locked_until": now + lease, "last_started_at": now, "runs": JobRun.runs + 1},
        where=free,
    ).returning(JobRun.name)
    taken = (await session.execute(stmt)).first() is not None
    await session.commit()
    return taken


async def release(session: AsyncSession, name: str, holder: str, error: str | None) -> None:
    """Free the lease (only if still ours) and record how the run ended; commits."""
    await session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.holder == holder)
        .values(locked_until=None, last_finished_at=utcnow(), last_error=error)
    )
    await session.commit()
