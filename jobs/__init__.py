"""Scheduled work, run by APScheduler in the bot's event loop. The schedule table is here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from jobs import (
    ai_followups,
    case_feedback_digest,
    case_reminders,
    cost_polling,
    daily_summary,
    document_tasks,
    feedback_digest,
    follow_ups,
    report_reminders,
    resume_setups,
    task_reminders,
    workflow_runs,
)
from jobs.runner import Interval, JobFunc, run_job


@dataclass(frozen=True)
class Job:
    func: JobFunc
    trigger: str  # APScheduler trigger name
    schedule: dict[str, Any]
    description: str

    def interval(self, deps: Deps, name: str) -> Interval:
        """The period whose slot the job claims: its interval, or a day in `daily_jobs.timezone`."""
        if self.trigger == "cron":
            return Interval(timedelta(days=1), ZoneInfo(deps.config.daily_jobs.timezone))
        return Interval(timedelta(**self.schedule_for(deps, name)))

    def schedule_for(self, deps: Deps, name: str) -> dict[str, Any]:
        """APScheduler trigger arguments, with what the config sets (cost polling, daily time)."""
        return job_schedule(name, self, deps.config)

    def describe(self, name: str, config: WarroomConfig) -> str:
        """The schedule as `config` sets it: `interval minutes=5`, `daily at 09:00 Europe/Paris`."""
        schedule = job_schedule(name, self, config)
        if self.trigger == "cron":
            return f"daily at {schedule['hour']:02d}:{schedule['minute']:02d} {schedule['timezone']}"
        return f"{self.trigger} " + ", ".join(f"{k}={v}" for k, v in schedule.items())


SCHEDULE: dict[str, Job] = {
    "resume_incident_setups": Job(
        resume_setups.run, "interval", {"seconds": 20}, "finish set-ups, (incident and case) ticket work, Google work, pages and emails a failure left unfinished"
    ),
    "report_reminders": Job(
        report_reminders.run, "interval", {"minutes": 5}, "DM commanders whose incidents are due a report"
    ),
    "task_reminders": Job(task_reminders.run, "interval", {"minutes": 30}, "DM assignees of overdue tasks (once a day)"),
    "workflow_runs": Job(workflow_runs.run, "interval", {"minutes": 1},
                         "send workflow runs their webhook has not accepted yet (retries) and refresh run messages"),
    "follow_ups": Job(follow_ups.run, "interval", {"minutes": 30},
                      "DM commanders of incidents Stable for follow_up.stable_days (weekly, until closed)"),
    "case_reminders": Job(case_reminders.run, "interval", {"minutes": 5},
                          "DM assignees of cases left New past triage_hours, or unchanged for stale_days"),
    "cost_polling": Job(cost_polling.run, "interval", {"minutes": 5},
                        "cost new incident-channel activity and role time (every costs.polling_minutes)"),
    "feedback_digest": Job(feedback_digest.run, "cron", {"hour": 9, "minute": 0}, "DM commanders yesterday's feedback"),
    "case_feedback_digest": Job(case_feedback_digest.run, "cron", {"hour": 9, "minute": 0},
                                "DM case assignees yesterday's feedback"),
    "document_task_sync": Job(document_tasks.run, "interval", {"seconds": 60},
                              "tasks from incident document comments, both ways (every google.task_sync.interval_seconds)"),
    "daily_summary": Job(daily_summary.run, "cron", {"hour": 9, "minute": 0},
                         "post open and recently closed incidents to notification channels"),
    "ai_followups": Job(ai_followups.run, "interval", {"seconds": 30},
                        "AI: finish closing summaries a crash left unfinished; analyse new signal cases"),
}


def job_schedule(name: str, job: Job, config: WarroomConfig) -> dict[str, Any]:
    """The trigger's arguments: the table's, with what the config sets (cost polling period, daily time)."""
    schedule = dict(job.schedule)
    if name == "cost_polling":
        schedule = {"minutes": config.costs.polling_minutes}
    if name == "document_task_sync" and config.google is not None:
        schedule = {"seconds": config.google.task_sync.interval_seconds}
    if job.trigger == "cron":
        schedule.update(hour=config.daily_jobs.hour, minute=config.daily_jobs.minute,
                        timezone=config.daily_jobs.timezone)
    return schedule


def schedule_jobs(scheduler: AsyncIOScheduler, deps: Deps, intervals: Mapping[str, float] | None = None) -> None:
    """Add every job of SCHEDULE, each run once per interval across processes; daily ones at `daily_jobs` time.

    `intervals` (seconds by job name, the JOB_INTERVALS setting) replaces a job's schedule by a plain interval.
    """
    intervals = intervals or {}
    unknown = sorted(set(intervals) - set(SCHEDULE))
    if unknown:
        raise ValueError(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(SCHEDULE)}")
    for name, job in SCHEDULE.items():
        trigger, schedule, interval = job.trigger, job.schedule_for(deps, name), job.interval(deps, name)
        if name in intervals:
            trigger, schedule = "interval", {"seconds": intervals[name]}
            interval = Interval(timedelta(seconds=intervals[name]))
        scheduler.add_job(
            run_job, trigger, args=[name, job.func, deps], kwargs={"interval": interval}, id=name,
            name=name, max_instances=1, coalesce=True, **schedule,
        )
