"""The follow-up loop: an incident left Stable for more than `follow_up.stable_days` gets a DM to its
commander every `follow_up.remind_every_days` (naming its open tasks) with *Close it* and *Remind me next
week*, until it is closed.

Each reminder is claimed in the database (`incident_follow_up.next_at` moved on before the DM is sent), so
two processes never send it twice; a process dying between the claim and the DM loses that one reminder
(the next comes a week later), never doubles it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import PortError
from domain.core.vocabulary import IncidentStatus, TaskStatus
from domain.incidents.notices import IncidentFacts
from domain.incidents.queries import may_manage_id
from domain.incidents.service import incident_facts
from domain.incidents.update import UpdateOptions, update_options
from storage.models import Incident
from storage.task_models import IncidentTask
from storage.types import utcnow
from storage.upsert import upsert_insert
from storage.workflow_models import IncidentFollowUp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StableFollowUp(Notice):
    """DM to the commander of an incident Stable for a while."""

    incident_id: int
    facts: IncidentFacts
    stable_days: int
    open_tasks: list[str]
    update_command: str
    remind_every_days: int


@dataclass(frozen=True)
class FollowUpSnoozed(Notice):
    """What the follow-up DM becomes after *Remind me next week*."""

    incident_name: str
    next_at: datetime


async def _claim(session: AsyncSession, config: WarroomConfig, now: datetime) -> list[int]:
    """Ids of Stable incidents due a reminder, each claimed (next reminder moved on); commits."""
    follow = config.follow_up
    every = timedelta(days=follow.remind_every_days)
    due = (await session.execute(
        select(col(Incident.id), col(IncidentFollowUp.next_at)).outerjoin(
            IncidentFollowUp, col(IncidentFollowUp.incident_id) == col(Incident.id))
        .where(col(Incident.status) == IncidentStatus.STABLE, col(Incident.commander_id).is_not(None),
               col(Incident.stable_at) <= now - timedelta(days=follow.stable_days),
               or_(col(IncidentFollowUp.next_at).is_(None), col(IncidentFollowUp.next_at) <= now))
        .order_by(col(Incident.id)))).all()
    claimed = []
    for incident_id, next_at in due:
        if next_at is None:
            result = await session.execute(upsert_insert(session, IncidentFollowUp).values(
                incident_id=incident_id, next_at=now + every, last_sent_at=now, sent=1)
                .on_conflict_do_nothing(index_elements=["incident_id"]))
        else:
            result = await session.execute(update(IncidentFollowUp).where(
                col(IncidentFollowUp.incident_id) == incident_id, col(IncidentFollowUp.next_at) <= now)
                .values(next_at=now + every, last_sent_at=now, sent=col(IncidentFollowUp.sent) + 1)
                .execution_options(synchronize_session=False))
        if cast(CursorResult[Any], result).rowcount:
            claimed.append(incident_id)
    await session.commit()
    return claimed


async def remind_stable(deps: Deps, now: datetime | None = None) -> int:
    """The job: DM the commander of each Stable incident due a follow-up; returns how many were sent."""
    config = deps.config
    if not config.follow_up.enabled:
        return 0
    now = now or utcnow()
    async with deps.sessions() as session:
        ids = await _claim(session, config, now)
    sent = 0
    for incident_id in ids:
        async with deps.sessions() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None or incident.stable_at is None:
                continue
            facts = await incident_facts(session, incident)
            tasks = list((await session.execute(select(col(IncidentTask.description)).where(
                col(IncidentTask.incident_id) == incident_id, col(IncidentTask.status) == TaskStatus.OPEN)
                .order_by(col(IncidentTask.id)))).scalars())
            await session.commit()
        if facts.commander is None:
            continue
        days = max((now - incident.stable_at).days, config.follow_up.stable_days)
        try:
            await deps.ports.conversation.send_direct(facts.commander, StableFollowUp(
                incident_id, facts, days, tasks, config.commands.update_incident, config.follow_up.remind_every_days))
        except PortError as exc:  # this one only: the others claimed with it still go out; due again next interval
            log.warning("follow-up of incident %s to %s not sent: %s", incident_id, facts.commander, exc.code)
            continue
        sent += 1
    return sent


async def snooze_follow_up(deps: Deps, incident_id: int, user_id: str) -> FollowUpSnoozed | None:
    """*Remind me next week*: the next reminder in `remind_every_days`; None when `user_id` may not manage
    the incident (or it is gone)."""
    async with deps.sessions() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or not await may_manage_id(session, incident_id, user_id, deps.config):
            return None
        next_at = utcnow() + timedelta(days=deps.config.follow_up.remind_every_days)
        await session.execute(upsert_insert(session, IncidentFollowUp).values(
            incident_id=incident_id, next_at=next_at, sent=0).on_conflict_do_update(
            index_elements=["incident_id"], set_={"next_at": next_at}))
        await session.commit()
        return FollowUpSnoozed(incident.name, next_at)


async def close_form(deps: Deps, incident_id: int, user_id: str) -> tuple[str, UpdateOptions] | None:
    """*Close it*: (incident name, the update form's options with status Closed) for someone who may manage
    the incident; None otherwise (or when it is gone or closed already)."""
    async with deps.sessions() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or incident.status == IncidentStatus.CLOSED \
                or not await may_manage_id(session, incident_id, user_id, deps.config):
            return None
        options = await update_options(session, incident)
        await session.commit()
    return incident.name, replace(options, current=replace(options.current, status=IncidentStatus.CLOSED))
