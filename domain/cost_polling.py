"""Cost polling: read what is new in incident channels, turn it into work spans, and cost role time.

Per incident: (1) read cursors and model assignments, commit; (2) ask Slack only for top-level
messages newer than the cursor (re-reading recent thread parents to see whose `latest_reply`
moved) and the new replies of those threads; (3) in one transaction, add the spans and the classic
role hours and move the cursors, so a crash before the commit loses the run and the next run
reads the same messages again: nothing is ever counted twice. Incidents costed only with the
classic model cost no Slack call. A per-run call budget leaves the rest to the next runs (least
recently polled first).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.costs import CLASSIC_MODEL, CostsConfig
from domain.core.deps import Deps
from domain.core.ports import ConversationPort, HistoryMessage
from domain.core.vocabulary import CostActivity, IncidentStatus
from domain.costs import Activity, RoleSpan, classic_hours, classic_windows, extend_spans, model_at, review_hours
from domain.response.summary import incident_summary
from storage.cost_models import CostCursor, CostModelAssignment, ParticipantCost, ResponseCost
from storage.models import Incident, IncidentType, IndividualContact, Participant, ParticipantRole, Project
from storage.rows import must_get
from storage.types import utcnow

log = logging.getLogger(__name__)
INCIDENT = "incident"
COUNTED_SUBTYPES = (None, "thread_broadcast", "file_share", "me_message")  # joins, topic changes... are not work


@dataclass
class PollStats:
    """What one run did: Slack calls made, incidents costed, deferred (budget), messages counted."""

    calls: int = 0
    incidents: int = 0
    deferred: int = 0
    messages: int = 0
    updated: list[int] = field(default_factory=list)


class BudgetSpent(Exception):
    pass


@dataclass
class _Read:
    top_last: str | None  # the top-level cursor as read before the Slack calls
    new_top: str | None = None
    activities: list[tuple[str, float, str]] = field(default_factory=list)  # (user, ts, activity)
    threads: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # thread ts -> (last reply, latest)


def _counts(m: HistoryMessage) -> bool:
    return bool(m.user) and not m.bot and m.subtype in COUNTED_SUBTYPES


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if float(a) >= float(b) else b


async def record_model_assignment(deps: Deps, incident_id: int, labels: frozenset[str]) -> None:
    """Incident watcher: a type change assigns the new type's cost model from now."""
    if "Type" not in labels:
        return
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        await _assignments(session, deps.config.costs, incident, utcnow())
        await session.commit()


async def _assignments(session: AsyncSession, costs: CostsConfig, incident: Incident,
                       now: datetime) -> list[tuple[datetime, str]]:
    """The incident's model assignments, oldest first; adds one when its type now names another model."""
    rows = (await session.execute(
        select(CostModelAssignment).where(col(CostModelAssignment.subject) == INCIDENT,
                                          col(CostModelAssignment.subject_id) == incident.id)
        .order_by(col(CostModelAssignment.since), col(CostModelAssignment.id)))).scalars().all()
    itype = await must_get(session, IncidentType, incident.incident_type_id)
    model = costs.model_for_incident_type(itype.name)
    if not rows or rows[-1].model != model:
        row = CostModelAssignment(subject=INCIDENT, subject_id=incident.id, model=model,
                                  since=incident.created_at if not rows else now)
        session.add(row)
        rows = [*rows, row]
    return [(r.since, r.model) for r in rows]


async def poll_costs(deps: Deps, *, now: datetime | None = None) -> PollStats:
    """One run over every ongoing incident with a channel (and those closed since their last run)."""
    stats = PollStats()
    async with deps.sessions() as session:
        polled = (select(col(CostCursor.subject_id), col(CostCursor.polled_at))
                  .where(col(CostCursor.subject) == INCIDENT, col(CostCursor.thread_ts) == "").subquery())
        rows = (await session.execute(
            select(col(Incident.id), col(Incident.status), col(Incident.closed_at), polled.c.polled_at)
            .outerjoin(polled, polled.c.subject_id == col(Incident.id))
            .where(col(Incident.channel_id).is_not(None))
            .where(col(Incident.status).in_([IncidentStatus.ACTIVE, IncidentStatus.STABLE])
                   | ((col(Incident.status) == IncidentStatus.CLOSED) & polled.c.polled_at.is_not(None)
                      & (polled.c.polled_at < col(Incident.closed_at))))
            .order_by(func.coalesce(polled.c.polled_at, col(Incident.created_at)), col(Incident.id))
        )).all()
        await session.commit()
    for incident_id, *_ in rows:
        if stats.calls >= deps.config.costs.calls_per_run:
            stats.deferred += 1
            continue
        try:
            changed = await poll_incident(deps, incident_id, stats, now=now)
        except BudgetSpent:
            stats.deferred += 1
            continue
        stats.incidents += 1
        if changed:
            stats.updated.append(incident_id)
            await show_cost(deps, incident_id)
    return stats


async def poll_incident(deps: Deps, incident_id: int, stats: PollStats, *, now: datetime | None = None) -> bool:
    """Cost one incident (see the module docstring); True when its cost changed."""
    costs, conv = deps.config.costs, deps.ports.conversation
    now = now or utcnow()
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        assignments = await _assignments(session, costs, incident, now)
        cursors = await _cursors(session, incident.channel_id or "")
        await session.commit()
    channel = incident.channel_id or ""
    # The first assignment holds from the channel's start (ts are not comparable to our clock to the
    # second); a later one from its whole second.
    activity_since = [0.0 if i == 0 else float(math.floor(since.timestamp()))
                      for i, (since, model) in enumerate(assignments) if model != CLASSIC_MODEL]
    top = cursors.get("")
    read = _Read(top.last_ts if top else None)
    if activity_since:
        start = min(activity_since)
        read = await _read_channel(conv, channel, cursors, read, start, now, costs, stats)
    async with deps.sessions() as session:
        cursors = await _cursors(session, channel)
        top = cursors.get("")
        if (top.last_ts if top else None) != read.top_last:
            await session.rollback()  # another run counted these messages first
            return False
        incident = await must_get(session, Incident, incident_id)
        project = await must_get(session, Project, incident.project_id)
        rate = costs.hourly_rate(project.name)
        changed = await _add_activities(session, incident_id, assignments, read, rate, costs)
        changed |= await _add_classic(session, incident, assignments, rate, now)
        if top is None:
            top = CostCursor(channel_id=channel, thread_ts="", subject=INCIDENT, subject_id=incident_id)
            session.add(top)
        top.last_ts = _later(top.last_ts, read.new_top)
        top.polled_at = now
        for thread_ts, (last_reply, latest) in read.threads.items():
            row = cursors.get(thread_ts)
            if row is None:
                row = CostCursor(channel_id=channel, thread_ts=thread_ts, subject=INCIDENT, subject_id=incident_id)
                session.add(row)
            row.last_ts, row.latest_reply, row.polled_at = last_reply, latest, now
        await session.commit()
    stats.messages += len(read.activities)
    return changed


async def _cursors(session: AsyncSession, channel: str) -> dict[str, CostCursor]:
    rows = (await session.execute(select(CostCursor).where(col(CostCursor.channel_id) == channel))).scalars().all()
    return {r.thread_ts: r for r in rows}


async def _read_channel(conv: ConversationPort, channel: str, cursors: dict[str, CostCursor], read: _Read,
                        start: float, now: datetime, costs: CostsConfig, stats: PollStats) -> _Read:
    """New top-level messages, and new replies of threads whose latest reply moved (recent ones only)."""
    budget = costs.calls_per_run
    watch_from = (now - timedelta(hours=costs.thread_watch_hours)).timestamp()
    last = float(read.top_last) if read.top_last else start
    oldest = max(min(last, watch_from), start)
    parents: dict[str, str] = {}
    page_cursor: str | None = None
    newest: str | None = None
    while True:
        if stats.calls >= budget:
            raise BudgetSpent
        stats.calls += 1
        page = await conv.history(channel, oldest=f"{oldest:.6f}", cursor=page_cursor)
        for m in page.messages:
            newest = _later(newest, m.ts)
            if float(m.ts) > last and _counts(m) and m.user:
                read.activities.append((m.user, float(m.ts), CostActivity.SLACK_CHANNEL_ACTIVITY))
            if m.latest_reply:
                parents[m.ts] = m.latest_reply
        page_cursor = page.next_cursor
        if not page_cursor:
            break
    read.new_top = newest
    for thread_ts, latest in sorted(parents.items()):
        known = cursors.get(thread_ts)
        if known is not None and known.latest_reply is not None and float(known.latest_reply) >= float(latest):
            continue
        seen = float(known.last_ts) if known and known.last_ts else start
        newest_reply: str | None = known.last_ts if known else None
        found: list[tuple[str, float, str]] = []
        page_cursor = None
        while True:
            if stats.calls >= budget:
                return read  # this thread and the rest next run (nothing of it counted now)
            stats.calls += 1
            page = await conv.replies(channel, thread_ts, oldest=f"{seen:.6f}", cursor=page_cursor)
            for m in page.messages:
                if m.ts == thread_ts or float(m.ts) <= seen:
                    continue
                newest_reply = _later(newest_reply, m.ts)
                if _counts(m) and m.user:
                    found.append((m.user, float(m.ts), CostActivity.SLACK_THREAD_ACTIVITY))
            page_cursor = page.next_cursor
            if not page_cursor:
                break
        read.activities += found
        read.threads[thread_ts] = (newest_reply, latest)
    return read


async def _participant_row(session: AsyncSession, subject_id: int, model: str, user: str) -> ParticipantCost:
    row = (await session.execute(select(ParticipantCost).where(
        col(ParticipantCost.subject) == INCIDENT, col(ParticipantCost.subject_id) == subject_id,
        col(ParticipantCost.model) == model, col(ParticipantCost.user_id) == user))).scalar_one_or_none()
    if row is None:
        row = ParticipantCost(subject=INCIDENT, subject_id=subject_id, model=model, user_id=user)
        session.add(row)
    return row


async def _cost_row(session: AsyncSession, subject_id: int, model: str) -> ResponseCost:
    row = (await session.execute(select(ResponseCost).where(
        col(ResponseCost.subject) == INCIDENT, col(ResponseCost.subject_id) == subject_id,
        col(ResponseCost.model) == model))).scalar_one_or_none()
    if row is None:
        row = ResponseCost(subject=INCIDENT, subject_id=subject_id, model=model)
        session.add(row)
    return row


async def _add_activities(session: AsyncSession, incident_id: int, assignments: list[tuple[datetime, str]],
                          read: _Read, rate: int, costs: CostsConfig) -> bool:
    epochs = [(0.0 if i == 0 else float(math.floor(since.timestamp())), model)
              for i, (since, model) in enumerate(assignments)]
    by_model: dict[str, list[Activity]] = {}
    for user, ts, kind in read.activities:
        model = model_at(epochs, ts)
        config = costs.model(model) if model else None
        response_time = config.response_time(kind) if config else None
        if model and response_time:
            by_model.setdefault(model, []).append(Activity(user, ts, response_time))
    changed = False
    for model, activities in by_model.items():
        users = sorted({a.participant for a in activities})
        rows = {u: await _participant_row(session, incident_id, model, u) for u in users}
        ends = {u: r.span_end for u, r in rows.items() if r.span_end is not None}
        added = extend_spans(ends, activities)
        total = await _cost_row(session, incident_id, model)
        for user, seconds in added.items():
            row = rows[user]
            row.span_end = ends[user]
            row.activities += sum(1 for a in activities if a.participant == user)
            row.hours += seconds / 3600
            row.amount += seconds / 3600 * rate
            total.hours += seconds / 3600
            total.amount += seconds / 3600 * rate
            changed |= seconds > 0
        total.updated_at = utcnow()
    return changed


async def _add_classic(session: AsyncSession, incident: Incident, assignments: list[tuple[datetime, str]],
                       rate: int, now: datetime) -> bool:
    if not any(model == CLASSIC_MODEL for _, model in assignments):
        return False
    row = await _cost_row(session, incident.id, CLASSIC_MODEL)
    roles = [RoleSpan(user, role, assumed, renounced) for user, role, assumed, renounced in (await session.execute(
        select(col(IndividualContact.slack_user_id), col(ParticipantRole.role), col(ParticipantRole.assumed_at),
               col(ParticipantRole.renounced_at))
        .join(Participant, col(Participant.id) == col(ParticipantRole.participant_id))
        .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .where(col(Participant.incident_id) == incident.id))).all()]
    resolved = None if incident.status == IncidentStatus.ACTIVE else (incident.stable_at or incident.closed_at)
    hours: dict[str, float] = {}
    for lo, hi in classic_windows(assignments, CLASSIC_MODEL, row.calculated_until, now):
        for user, h in classic_hours(roles, since=lo, until=hi, resolved_at=resolved).items():
            hours[user] = hours.get(user, 0.0) + h
    if incident.status == IncidentStatus.CLOSED and not row.review_added:
        count = (await session.execute(select(func.count()).select_from(Participant)
                                       .where(col(Participant.incident_id) == incident.id))).scalar_one()
        row.review_added = True
        row.hours += review_hours(count)
        row.amount += review_hours(count) * rate
        hours.pop("", None)
        changed = True
    else:
        changed = False
    for user, h in hours.items():
        prow = await _participant_row(session, incident.id, CLASSIC_MODEL, user)
        prow.hours += h
        prow.amount += h * rate
        row.hours += h
        row.amount += h * rate
        changed |= abs(h) * rate >= 0.005
    row.calculated_until = now
    row.updated_at = utcnow()
    return changed


async def incident_cost(session: AsyncSession, incident_id: int) -> float | None:
    """The incident's response cost over every model (None before its first calculation)."""
    return (await session.execute(select(func.sum(ResponseCost.amount)).where(
        col(ResponseCost.subject) == INCIDENT, col(ResponseCost.subject_id) == incident_id))).scalar_one_or_none()


async def show_cost(deps: Deps, incident_id: int) -> None:
    """Edit the incident's pinned summary in place to show its response cost."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        if not incident.channel_id or not incident.summary_message_ts:
            return
        notice = await incident_summary(session, incident, deps.config)
        await session.commit()
    try:
        await deps.ports.conversation.update(incident.channel_id, incident.summary_message_ts, notice)
    except Exception:  # the figure is stored; the summary shows it at the next change
        log.warning("could not show the response cost of incident %s", incident_id, exc_info=True)
