"""Scheduled work, run by APScheduler in the bot's event loop. The schedule table is here."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from domain.deps import Deps
from jobs import resume_setups

SCHEDULE = {
    # name: (coroutine function taking Deps, trigger, trigger arguments)
    "resume_incident_setups": (resume_setups.run, "interval", {"minutes": 1}),
}


def schedule_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """Add every job of SCHEDULE; one job's failure is logged by APScheduler, others go on."""
    for name, (func, trigger, args) in SCHEDULE.items():
        scheduler.add_job(func, trigger, args=[deps], id=name, name=name, max_instances=1, coalesce=True, **args)
