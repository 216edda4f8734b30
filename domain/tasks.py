"""Incident tasks: creation, resolve / re-open, listings, overdue reminders."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.deps import Deps
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import PortError
from domain.core.vocabulary import TaskStatus, Visibility
from domain.incidents.queries import is_participant, may_see
from domain.timeline import record_event
from storage.models import Incident
from storage.rows import must_get
from storage.task_models import IncidentTask, TaskCard
from storage.types import utcnow

log = logging.getLogger(__name__)

REMIND_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class TaskView(Notice):
    """A task as cards and lists show it."""

    id: int
    incident_id: int
    incident_name: str
    channel_id: str | None
    description: str
    status: str
    priority: str
    creator: str
    assignees: list[str]
    due_at: datetime | None


@dataclass(frozen=True)
class TaskList(Notice):
    """Tasks grouped by status, for a person or an incident."""

    heading: str
    tasks: list[TaskView]


@dataclass(frozen=True)
class TaskOverdue(Notice):
    task: TaskView


def view_of(task: IncidentTask, incident: Incident) -> TaskView:
    return TaskView(task.id, incident.id, incident.name, incident.channel_id, task.description, task.status, task.priority,
                    task.creator_user_id, list(task.assignees), task.due_at)


async def create_task(
    session: AsyncSession, incident: Incident, creator: str, description: str, assignees: list[str], priority: str,
    due_at: datetime | None,
) -> TaskView:
    """Store a task and log it; commits."""
    author = await ensure_contact(session, creator)
    task = IncidentTask(incident_id=incident.id, description=description, creator_user_id=creator,
                        assignees=assignees, priority=priority, due_at=due_at)
    session.add(task)
    await session.flush()
    await record_event(session, incident.id, f"{author.name} created task: {description}", author_id=author.id,
                       details={"task_id": task.id, "assignees": assignees})
    await session.commit()
    return view_of(task, incident)


async def set_resolved(session: AsyncSession, task_id: int, *, resolved: bool, actor: str) -> tuple[TaskView, list[tuple[str, str]]]:
    """Resolve or re-open; returns the task and every (channel, ts) card to refresh; commits."""
    task = await must_get(session, IncidentTask, task_id)
    incident = await must_get(session, Incident, task.incident_id)
    status = TaskStatus.RESOLVED if resolved else TaskStatus.OPEN
    if task.status != status:
        who = await ensure_contact(session, actor)
        task.status, task.resolved_at = status, (utcnow() if resolved else None)
        verb = "resolved" if resolved else "re-opened"
        await record_event(session, incident.id, f"{who.name} {verb} task: {task.description}", author_id=who.id,
                           details={"task_id": task.id})
    cards = (await session.execute(select(col(TaskCard.channel_id), col(TaskCard.ts)).where(col(TaskCard.task_id) == task_id))).all()
    await session.commit()
    return view_of(task, incident), [(c, ts) for c, ts in cards]


async def task_in_sight(session: AsyncSession, task_id: int, user_id: str, config: WarroomConfig) -> bool:
    """Whether the task exists and `user_id` may know of it (its incident is Open, or they are in it)."""
    task = await session.get(IncidentTask, task_id)
    incident = await session.get(Incident, task.incident_id) if task else None
    return incident is not None and await may_see(session, incident, user_id, config)


async def outside_assignees(session: AsyncSession, incident: Incident, user_ids: list[str],
                            config: WarroomConfig) -> list[str]:
    """Who of `user_ids` may not be given a task of the incident: outsiders of a Restricted incident
    (a task card and its reminders would tell them about it)."""
    return [u for u in user_ids if not await may_see(session, incident, u, config)]


async def task_refusals(session: AsyncSession, incident_id: int, assignees: list[str],
                        config: WarroomConfig) -> dict[str, str]:
    """Why a create-task submission cannot be stored (by modal block id); empty when it can."""
    incident = await session.get(Incident, incident_id)
    if incident is None:
        return {"description": "This incident no longer exists."}
    if await outside_assignees(session, incident, assignees, config):
        return {"assignees": "This incident is restricted: only its participants can be given a task. "
                             "Invite the others to its channel first."}
    return {}


async def add_card(session: AsyncSession, task_id: int, channel_id: str, ts: str) -> None:
    session.add(TaskCard(task_id=task_id, channel_id=channel_id, ts=ts))
    await session.commit()


async def incident_tasks(session: AsyncSession, incident: Incident) -> list[TaskView]:
    rows = (await session.execute(
        select(IncidentTask).where(col(IncidentTask.incident_id) == incident.id).order_by(col(IncidentTask.id)))).scalars()
    return [view_of(t, incident) for t in rows]


async def my_tasks(session: AsyncSession, user_id: str) -> list[TaskView]:
    """Open tasks the person created or is assigned, across incidents (not of Restricted incidents they are outside of)."""
    rows = (await session.execute(
        select(IncidentTask, Incident).join(Incident, col(Incident.id) == col(IncidentTask.incident_id))
        .where(col(IncidentTask.status) == TaskStatus.OPEN).order_by(col(IncidentTask.due_at), col(IncidentTask.id)))).all()
    mine = [(t, i) for t, i in rows if t.creator_user_id == user_id or user_id in t.assignees]
    return [view_of(t, i) for t, i in mine if i.visibility != Visibility.RESTRICTED or await is_participant(session, i.id, user_id)]


async def claim_overdue(session: AsyncSession, now: datetime | None = None) -> list[TaskView]:
    """Overdue open tasks not reminded in the last day, claimed for this process; commits. The incident's status does
    not matter: tasks left open after it is Stable or Closed are its follow-up action items, reminded until done."""
    now = now or utcnow()
    rows = (await session.execute(
        select(IncidentTask, Incident).join(Incident, col(Incident.id) == col(IncidentTask.incident_id))
        .where(col(IncidentTask.status) == TaskStatus.OPEN, col(IncidentTask.due_at) < now,
               or_(col(IncidentTask.reminded_at).is_(None), col(IncidentTask.reminded_at) < now - REMIND_EVERY)))).all()
    claimed = []
    for task, incident in rows:
        result = cast(CursorResult[Any], await session.execute(
            update(IncidentTask).where(col(IncidentTask.id) == task.id,
                                       or_(col(IncidentTask.reminded_at).is_(None), col(IncidentTask.reminded_at) < now - REMIND_EVERY))
            .values(reminded_at=now).execution_options(synchronize_session=False)))
        if result.rowcount:
            claimed.append(view_of(task, incident))
    await session.commit()
    return claimed


async def add_task(deps: Deps, incident_id: int, *, channel: str, creator: str, description: str, assignees: list[str],
                   priority: str, due_at: datetime | None) -> TaskView:
    """Store a task, post its card in `channel` and tell each assignee there (ephemeral)."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        task = await create_task(session, incident, creator, description, assignees, priority, due_at)
    card = await conv.post(channel, task)
    async with deps.sessions() as session:
        await add_card(session, task.id, card.channel_id, card.ts)
    notice = PlainNotice(f"<@{task.creator}> assigned you a task: {task.description}")
    await asyncio.gather(*(conv.post_ephemeral(channel, u, notice) for u in task.assignees),
                         return_exceptions=True)  # an assignee outside the channel just misses the notice
    return task


async def change_task(deps: Deps, task_id: int, *, resolved: bool, actor: str,
                      clicked: tuple[str, str] | None = None) -> TaskView | None:
    """Resolve or re-open a task and refresh every card of it, and the `clicked` card (channel, ts) in any case
    (its row may not be stored yet); None when there is no such task or `actor` may not know of it (a task of
    a Restricted incident they are outside of)."""
    async with deps.sessions() as session:
        if not await task_in_sight(session, task_id, actor, deps.config):
            return None
        task, cards = await set_resolved(session, task_id, resolved=resolved, actor=actor)
    targets = list(dict.fromkeys([*cards, *([clicked] if clicked else [])]))
    await asyncio.gather(*(deps.ports.conversation.update(channel, ts, task) for channel, ts in targets))
    return task


async def task_list(session: AsyncSession, incident_id: int) -> tuple[str, list[TaskView]]:
    """(incident name, its tasks) for the task list modal."""
    incident = await must_get(session, Incident, incident_id)
    return incident.name, await incident_tasks(session, incident)


async def remind_overdue(deps: Deps) -> int:
    """DM the assignees (else the creator) of overdue tasks, once a day per task; returns how many DMs were sent."""
    async with deps.sessions() as session:
        tasks = await claim_overdue(session)
    sent = 0
    for task in tasks:
        for user in task.assignees or [task.creator]:
            try:
                ref = await deps.ports.conversation.send_direct(user, TaskOverdue(task))
            except PortError as exc:  # this DM only: the others claimed with it still go out; retried tomorrow
                log.warning("overdue reminder of task %s to %s not sent: %s", task.id, user, exc.code)
                continue
            async with deps.sessions() as session:  # the reminder is a card too: it follows the task
                await add_card(session, task.id, ref.channel_id, ref.ts)
            sent += 1
    return sent
