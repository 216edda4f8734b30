"""A lease per job name, so that several bot processes never run the same job at once, and the
interval slot it last ran in, so that they never run it twice in one interval either."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.job_models import JobRun
from storage.types import utcnow
from storage.upsert import upsert_insert


async def acquire(
    session: AsyncSession, name: str, holder: str, lease: timedelta, *, slot: int | None = None,
    min_gap: timedelta | None = None, now: datetime | None = None,
) -> bool:
    """Take the job's lease if it is free or expired (one atomic statement); commits.

    With `slot` (the interval the run belongs to, see jobs/runner.py), only if no process ran the
    job in that slot or a later one; with `min_gap`, only if the last run started at least that
    long ago (so two processes whose ticks straddle a slot boundary do not run it back to back).
    """
    now = now or utcnow()
    free = (JobRun.locked_until.is_(None)) | (JobRun.locked_until < now)
    if slot is not None:
        free = free & (JobRun.last_slot.is_(None) | (JobRun.last_slot < slot))
    if min_gap is not None:
        free = free & (JobRun.last_started_at.is_(None) | (JobRun.last_started_at < now - min_gap))
    values = {"holder": holder, "locked_until": now + lease, "last_started_at": now}
    if slot is not None:
        values["last_slot"] = slot
    stmt = upsert_insert(session, JobRun).values(name=name, runs=1, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"], set_={**values, "runs": JobRun.runs + 1}, where=free,
    ).returning(JobRun.name)
    taken = (await session.execute(stmt)).first() is not None
    await session.commit()
    return taken


async def extend(session: AsyncSession, name: str, holder: str, lease: timedelta) -> bool:
    """Heartbeat: push the lease `lease` from now, if it is still ours; commits. False: it was lost."""
    result = await session.execute(
        update(JobRun).where(JobRun.name == name, JobRun.holder == holder, JobRun.locked_until.is_not(None))
        .values(locked_until=utcnow() + lease)
    )
    await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def release(session: AsyncSession, name: str, holder: str, error: str | None) -> None:
    """Free the lease (only if still ours) and record how the run ended; commits."""
    await session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.holder == holder)
        .values(locked_until=None, last_finished_at=utcnow(), last_error=error)
    )
    await session.commit()
