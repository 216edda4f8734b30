"""Scheduled work, run by APScheduler in the bot's event loop. The schedule table is here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from domain.core.deps import Deps
from jobs import cost_polling, daily_summary, feedback_digest, report_reminders, resume_setups, task_reminders
from jobs.runner import JobFunc, run_job


@dataclass(frozen=True)
class Job:
    func: JobFunc
    trigger: str  # APScheduler trigger name
    schedule: dict[str, Any]
    description: str
    min_gap: timedelta | None = None  # daily jobs: never twice within this, across processes

    def describe(self) -> str:
        if self.trigger == "cron":
            return "daily at daily_jobs"
        return f"{self.trigger} " + ", ".join(f"{k}={v}" for k, v in self.schedule.items())


SCHEDULE: dict[str, Job] = {
    "resume_incident_setups": Job(
        resume_setups.run, "interval", {"minutes": 1}, "finish incident channel set-ups and ticket work a failure left unfinished"
    ),
    "report_reminders": Job(
        report_reminders.run, "interval", {"minutes": 5}, "DM commanders whose incidents are due a report"
    ),
    "task_reminders": Job(task_reminders.run, "interval", {"minutes": 30}, "DM assignees of overdue tasks (once a day)"),
    "cost_polling": Job(cost_polling.run, "interval", {"minutes": 5},
                        "cost new incident-channel activity and role time (every costs.polling_minutes)"),
    "feedback_digest": Job(feedback_digest.run, "cron", {"hour": 9, "minute": 0}, "DM commanders yesterday's feedback",
                           min_gap=timedelta(hours=20)),
    "daily_summary": Job(daily_summary.run, "cron", {"hour": 9, "minute": 0},
                         "post open and recently closed incidents to notification channels", min_gap=timedelta(hours=20)),
}


def schedule_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """Add every job of SCHEDULE, each run under its cross-process lease; daily ones at `daily_jobs` time."""
    for name, job in SCHEDULE.items():
        schedule = dict(job.schedule)
        if name == "cost_polling":
            schedule = {"minutes": deps.config.costs.polling_minutes}
        if job.trigger == "cron":
            schedule.update(hour=deps.config.daily_jobs.hour, minute=deps.config.daily_jobs.minute,
                            timezone=deps.config.daily_jobs.timezone)
        scheduler.add_job(
            run_job, job.trigger, args=[name, job.func, deps], kwargs={"min_gap": job.min_gap}, id=name, name=name,
            max_instances=1, coalesce=True, **schedule,
        )
