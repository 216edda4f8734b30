"""Tactical and executive reports, and reminders to write them (derived from the database)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.announcements.service import matches
from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import PortError
from domain.core.vocabulary import IncidentStatus, SetupState, TaskStatus
from domain.documents import REPORT_PENDING, append_report, wants_report_appended
from domain.incidents.detail import notifications_group
from domain.incidents.service import incident_facts
from domain.tasks import incident_tasks
from domain.timeline import record_event
from storage.cost_models import INCIDENT_SUBJECT, subject_cost
from storage.models import Incident, IncidentPriority, IndividualContact
from storage.report_models import IncidentReport, ReportReminder
from storage.rows import must_get
from storage.types import utcnow
from storage.upsert import upsert_insert

log = logging.getLogger(__name__)

TACTICAL, EXECUTIVE = "tactical", "executive"
FIELDS: dict[str, list[tuple[str, str]]] = {
    TACTICAL: [("conditions", "Conditions"), ("actions", "Actions"), ("needs", "Needs")],
    EXECUTIVE: [("current_status", "Current status"), ("overview", "Overview"), ("next_steps", "Next steps")],
}
SNOOZE_MINUTES = (30, 60, 120)


@dataclass(frozen=True)
class ReportPosted(Notice):
    """A report as posted in the incident channel (and sent to stakeholders for executive ones)."""

    incident_name: str
    title: str
    kind: str
    details: dict[str, str]
    author: str  # Slack user id
    response_cost: str | None = None  # executive reports: the response cost so far, once costed
    report_id: int = 0  # the stored report (emails about it are keyed on it)


@dataclass(frozen=True)
class ReportDue(Notice):
    """A DM asking the commander for an overdue report, with write and snooze buttons."""

    incident_id: int
    incident_name: str
    title: str
    channel_id: str | None
    kind: str
    hours: int


async def latest_report(session: AsyncSession, incident_id: int, kind: str) -> IncidentReport | None:
    return (
        await session.execute(
            select(IncidentReport)
            .where(col(IncidentReport.incident_id) == incident_id, col(IncidentReport.kind) == kind)
            .order_by(col(IncidentReport.created_at).desc(), col(IncidentReport.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def report_defaults(session: AsyncSession, incident: Incident, kind: str) -> dict[str, str]:
    """Pre-fill: the previous report of that kind; tactical Actions also list the open tasks."""
    previous = await latest_report(session, incident.id, kind)
    defaults = dict(previous.details) if previous else {}
    if kind == TACTICAL:
        open_tasks = [f"• {t.description}" for t in await incident_tasks(session, incident) if t.status == TaskStatus.OPEN]
        missing = [line for line in open_tasks if line not in defaults.get("actions", "")]
        if missing:
            defaults["actions"] = "\n".join(filter(None, [defaults.get("actions", "")] + missing))
    return defaults


async def report_form(session: AsyncSession, incident_id: int, kind: str) -> tuple[str | None, dict[str, str]]:
    """(the incident's channel, the pre-filled fields) of a new report of `kind`."""
    incident = await must_get(session, Incident, incident_id)
    return incident.channel_id, await report_defaults(session, incident, kind)


async def save_report(
    session: AsyncSession, incident: Incident, kind: str, details: dict[str, str], author_user_id: str,
    config: WarroomConfig,
) -> tuple[ReportPosted, list[str]]:
    """Store the report, log it on the timeline and clear any snooze; commits.

    Returns what to post and where else: for executive reports, the people of the notifications
    group and the notification channels that announce this incident (never for restricted ones).
    """
    author = await ensure_contact(session, author_user_id)
    report = IncidentReport(incident_id=incident.id, kind=kind, details=details, author_id=author.id,
                            document_state=REPORT_PENDING if wants_report_appended(config, kind) else None)
    session.add(report)
    await session.flush()
    await record_event(session, incident.id, f"{author.name} wrote a {kind} report", author_id=author.id,
                       details={"kind": kind, **details})
    await session.execute(
        update(ReportReminder)
        .where(col(ReportReminder.incident_id) == incident.id, col(ReportReminder.kind) == kind)
        .values(snoozed_until=None)
    )
    recipients: list[str] = []
    cost = None
    if kind == EXECUTIVE and config.costs.enabled:
        amount = await subject_cost(session, INCIDENT_SUBJECT, incident.id)
        cost = config.costs.money(amount) if amount is not None else None
    if kind == EXECUTIVE:
        recipients = list((await notifications_group(session, incident.id))[0])
        facts = await incident_facts(session, incident)
        recipients += [c.channel for c in config.notification_channels if matches(c, facts)]
    await session.commit()
    return ReportPosted(incident.name, incident.title, kind, details, author_user_id, cost, report.id), recipients


async def post_report(deps: Deps, incident_id: int, kind: str, details: dict[str, str], *, channel: str,
                      author: str) -> ReportPosted:
    """Store the report (`save_report`), post it in `channel` and to its other recipients (a user id is
    sent as a DM); an executive report is also added to the incident document."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        posted, recipients = await save_report(session, incident, kind, details, author, deps.config)
    effects: list[Awaitable[object]] = [conv.post(channel, posted), *(conv.post(target, posted) for target in recipients)]
    if kind == EXECUTIVE:
        effects.append(append_report(deps, posted.report_id))  # recorded; a failure is retried by the resume job
    await asyncio.gather(*effects)
    return posted


def _hours(priority: IncidentPriority, kind: str) -> int | None:
    return priority.tactical_report_reminder_hours if kind == TACTICAL else priority.executive_report_reminder_hours


async def due_reminders(session: AsyncSession, now: datetime | None = None) -> list[tuple[ReportDue, str, datetime]]:
    """(reminder, commander's Slack id, due time) for every Active incident whose report is overdue.

    Due = last report of that kind (or the report of the incident) + the priority's interval;
    nothing is kept in memory, so a restart changes nothing.
    """
    now = now or utcnow()
    rows = (
        await session.execute(
            select(Incident, IncidentPriority, col(IndividualContact.slack_user_id))
            .join(IncidentPriority, col(IncidentPriority.id) == col(Incident.incident_priority_id))
            .join(IndividualContact, col(IndividualContact.id) == col(Incident.commander_id))
            .where(col(Incident.status) == IncidentStatus.ACTIVE, col(Incident.setup_state) == SetupState.READY)
        )
    ).all()
    last = dict(
        ((incident_id, kind), at)
        for incident_id, kind, at in (
            await session.execute(
                select(col(IncidentReport.incident_id), col(IncidentReport.kind), func.max(col(IncidentReport.created_at))).group_by(
                    col(IncidentReport.incident_id), col(IncidentReport.kind)
                )
            )
        ).all()
    )
    due = []
    for incident, priority, commander in rows:
        for kind in (TACTICAL, EXECUTIVE):
            hours = _hours(priority, kind)
            if not hours:
                continue
            at = (last.get((incident.id, kind)) or incident.reported_at) + timedelta(hours=hours)
            if at <= now:
                reminder = ReportDue(incident.id, incident.name, incident.title, incident.channel_id, kind, hours)
                due.append((reminder, commander, at))
    return due


async def claim_reminder(session: AsyncSession, incident_id: int, kind: str, due_at: datetime, now: datetime) -> bool:
    """Whether this process sends the reminder for `due_at` (at most one process ever does); commits."""
    stmt = (
        upsert_insert(session, ReportReminder)
        .values(incident_id=incident_id, kind=kind, reminded_for=due_at)
        .on_conflict_do_update(
            index_elements=["incident_id", "kind"],
            set_={"reminded_for": due_at, "snoozed_until": None},
            where=or_(col(ReportReminder.reminded_for).is_(None), col(ReportReminder.reminded_for) < due_at)
            & or_(col(ReportReminder.snoozed_until).is_(None), col(ReportReminder.snoozed_until) <= now),
        )
        .returning(col(ReportReminder.id))
    )
    claimed = (await session.execute(stmt)).first() is not None
    await session.commit()
    return claimed


async def send_report_reminders(deps: Deps) -> int:
    """DM each due reminder to its commander once (claimed in the database first); returns how many were sent."""
    now = utcnow()
    async with deps.sessions() as session:
        due = await due_reminders(session, now)
    sent = 0
    for reminder, commander, due_at in due:
        async with deps.sessions() as session:
            if not await claim_reminder(session, reminder.incident_id, reminder.kind, due_at, now):
                continue
        try:
            await deps.ports.conversation.send_direct(commander, reminder)
        except PortError as exc:  # this one only (claimed: due again at the next interval); the others still go out
            log.warning("%s report reminder of incident %s to %s not sent: %s", reminder.kind, reminder.incident_id,
                        commander, exc.code)
            continue
        sent += 1
    return sent


async def snooze(session: AsyncSession, incident_id: int, kind: str, minutes: int) -> datetime:
    """Remind again `minutes` from now, even for the interval already reminded about; commits."""
    until = utcnow() + timedelta(minutes=minutes)
    await session.execute(
        upsert_insert(session, ReportReminder)
        .values(incident_id=incident_id, kind=kind, snoozed_until=until)
        .on_conflict_do_update(index_elements=["incident_id", "kind"],
                               set_={"snoozed_until": until, "reminded_for": None})
    )
    await session.commit()
    return until
