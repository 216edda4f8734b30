"""Cost polling: read what is new in incident and case conversations, turn it into work spans, and
cost role time.

Subjects are ongoing incidents with a channel and open cases with a channel or a card thread (a
case worked in its card's thread: only that thread is read, its replies are thread activity; a
case has no roles: classic counts its assignee like a commander, its reporter like a reporter and
anyone else who worked it like a participant, with no review hours). A case's type change is seen
at the next run (incidents: at once, through the update watcher).

Per subject: (1) read cursors and model assignments, commit; (2) ask Slack only for top-level
messages newer than the cursor (re-reading recent thread parents to see whose `latest_reply`
moved) and the new replies of those threads; (3) in one transaction, add the spans and the classic
role hours and move the cursors, so a crash before the commit loses the run and the next run
reads the same messages again: nothing is ever counted twice. Subjects costed only with the
classic model cost no Slack call. A conversation is read only when a person's message event
marked it since its last read began (`mark_activity`), every `sweep_minutes` (a missed event),
or once more when its subject ended, so Slack calls grow with new activity, not with incidents.
A per-run call budget leaves the rest to the next runs (least recently polled first); a 429 that
outlasts the client's retries stops the run the same way.

Runs are sequential on purpose: Slack allows history and replies about 50 calls a minute
(tier 3), so reading faster than one call at a time would only meet 429s sooner.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.cards import show_change
from domain.config.costs import CLASSIC_MODEL, CostsConfig
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import ConversationPort, HistoryMessage, PortError
from domain.core.vocabulary import CaseStatus, CostActivity, IncidentStatus, Role
from domain.costs import Activity, RoleSpan, classic_hours, classic_windows, extend_spans, model_at, review_hours
from domain.response.summary import closing_summary, incident_summary
from storage.case_models import Case, CaseParticipant
from storage.cost_models import (
    CASE_SUBJECT,
    INCIDENT_SUBJECT,
    CostCursor,
    CostModelAssignment,
    ParticipantCost,
    ResponseCost,
)
from storage.models import Incident, IncidentType, IndividualContact, Participant, ParticipantRole, Project
from storage.rows import must_get
from storage.types import utcnow

log = logging.getLogger(__name__)
INCIDENT, CASE = INCIDENT_SUBJECT, CASE_SUBJECT
OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.TRIAGE, CaseStatus.STABLE)  # polled (Stable: still talked about)
RATE_LIMITED = "ratelimited"  # Slack's error code for a 429
COUNTED_SUBTYPES = (None, "thread_broadcast", "file_share", "me_message")  # joins, topic changes... are not work


@dataclass
class PollStats:
    """What one run did: Slack calls made, incidents and cases costed, deferred (budget, rate limit),
    messages counted."""

    calls: int = 0
    incidents: int = 0
    cases: int = 0
    deferred: int = 0
    messages: int = 0
    updated: list[int] = field(default_factory=list)
    updated_cases: list[int] = field(default_factory=list)
    rate_limited: bool = False


class BudgetSpent(Exception):
    pass


class CostPollingFailed(Exception):
    """Some subjects could not be read (the others were costed)."""


@dataclass
class _Read:
    top_last: str | None  # the top-level cursor as read before the Slack calls
    new_top: str | None = None
    activities: list[tuple[str, float, str]] = field(default_factory=list)  # (user, ts, activity)
    threads: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # thread ts -> (last reply, latest)


def counts(user: str | None, bot: bool, subtype: str | None) -> bool:
    """Whether a message is work a model may count: said by a person (not a bot, a join, an edit...)."""
    return bool(user) and not bot and subtype in COUNTED_SUBTYPES


def _counts(m: HistoryMessage) -> bool:
    return counts(m.user, m.bot, m.subtype)


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if float(a) >= float(b) else b


@dataclass(frozen=True)
class Subject:
    """What is costed: an incident or a case, and where its conversation is — a channel, or for a
    case worked in its card's thread, that thread (`thread`)."""

    kind: str
    id: int
    channel: str
    thread: str | None = None
    final: bool = False  # it ended (closed, escalated) since its last run: read it one last time

    @property
    def top_key(self) -> str:
        """The `thread_ts` of the cursor that says how far the conversation was read."""
        return self.thread or ""


async def record_model_assignment(deps: Deps, incident_id: int, labels: frozenset[str]) -> None:
    """Incident watcher: a type change assigns the new type's cost model from now."""
    if "Type" not in labels:
        return
    async with deps.sessions() as session:
        await _assignments(session, deps.config.costs, INCIDENT, incident_id, utcnow())
        await session.commit()


async def _type_model(session: AsyncSession, costs: CostsConfig, kind: str, subject_id: int) -> tuple[str, datetime]:
    """The cost model the subject's type names now, and when the subject was created."""
    if kind == INCIDENT:
        incident = await must_get(session, Incident, subject_id)
        itype = await must_get(session, IncidentType, incident.incident_type_id)
        return costs.model_for_incident_type(itype.name), incident.created_at
    case = await must_get(session, Case, subject_id)
    return costs.model_for_case_type(case.case_type), case.created_at


async def _assignments(session: AsyncSession, costs: CostsConfig, kind: str, subject_id: int,
                       now: datetime) -> list[tuple[datetime, str]]:
    """The subject's model assignments, oldest first; adds one when its type now names another model
    (a case's type change is seen here, at the next run)."""
    rows = (await session.execute(
        select(CostModelAssignment).where(col(CostModelAssignment.subject) == kind,
                                          col(CostModelAssignment.subject_id) == subject_id)
        .order_by(col(CostModelAssignment.since), col(CostModelAssignment.id)))).scalars().all()
    model, created_at = await _type_model(session, costs, kind, subject_id)
    if not rows or rows[-1].model != model:
        row = CostModelAssignment(subject=kind, subject_id=subject_id, model=model,
                                  since=created_at if not rows else now)
        session.add(row)
        rows = [*rows, row]
    return [(r.since, r.model) for r in rows]


async def _due_subjects(session: AsyncSession) -> list[tuple[datetime, Subject]]:
    """Every subject to cost this run with the time it was last costed (or created): ongoing incidents
    with a channel, open cases with a channel or a card thread, and those that ended since their last
    run or were never costed (reported closed, or closed before costs existed: costed once)."""
    polled_i = (select(col(CostCursor.subject_id), func.max(col(CostCursor.polled_at)).label("polled_at"))
                .where(col(CostCursor.subject) == INCIDENT).group_by(col(CostCursor.subject_id)).subquery())
    incidents = (await session.execute(
        select(col(Incident.id), col(Incident.channel_id), col(Incident.status),
               func.coalesce(polled_i.c.polled_at, col(Incident.created_at)))
        .outerjoin(polled_i, polled_i.c.subject_id == col(Incident.id))
        .where(col(Incident.channel_id).is_not(None))
        .where(col(Incident.status).in_([IncidentStatus.ACTIVE, IncidentStatus.STABLE])
               | ((col(Incident.status) == IncidentStatus.CLOSED)  # once more (or once: reported closed)
                  & (polled_i.c.polled_at.is_(None) | (polled_i.c.polled_at < col(Incident.closed_at))))))).all()
    polled_c = (select(col(CostCursor.subject_id), func.max(col(CostCursor.polled_at)).label("polled_at"))
                .where(col(CostCursor.subject) == CASE).group_by(col(CostCursor.subject_id)).subquery())
    ended = func.coalesce(col(Case.escalated_at), col(Case.closed_at))
    cases = (await session.execute(
        select(col(Case.id), col(Case.channel_id), col(Case.card_channel_id), col(Case.card_ts), col(Case.status),
               func.coalesce(polled_c.c.polled_at, col(Case.created_at)))
        .outerjoin(polled_c, polled_c.c.subject_id == col(Case.id))
        .where(col(Case.channel_id).is_not(None) | col(Case.card_ts).is_not(None))
        .where(col(Case.status).in_(OPEN_CASE_STATUSES)
               | (col(Case.status).in_([CaseStatus.CLOSED, CaseStatus.ESCALATED])
                  & (polled_c.c.polled_at.is_(None) | (polled_c.c.polled_at < ended)))))).all()
    due = [(when, Subject(INCIDENT, i, channel, final=status == IncidentStatus.CLOSED))
           for i, channel, status, when in incidents]
    for case_id, channel, card_channel, card_ts, status, when in cases:
        final = status not in OPEN_CASE_STATUSES
        subject = (Subject(CASE, case_id, channel, final=final) if channel
                   else Subject(CASE, case_id, card_channel, card_ts, final=final))
        due.append((when, subject))
    return sorted(due, key=lambda d: (d[0], d[1].kind != INCIDENT, d[1].id))


async def poll_costs(deps: Deps, *, now: datetime | None = None) -> PollStats:
    """One run over every subject due (least recently costed first), within the call budget."""
    stats = PollStats()
    async with deps.sessions() as session:
        due = await _due_subjects(session)
        quiet = await _quiet(session, [s for _, s in due], deps.config.costs, now or utcnow())
        await session.commit()
    failures: list[str] = []
    for _, subject in due:
        if (subject.kind, subject.id) in quiet:  # nothing said, no role time: no Slack call, no transaction
            stats.incidents += subject.kind == INCIDENT
            stats.cases += subject.kind == CASE
            continue
        if stats.calls >= deps.config.costs.calls_per_run or stats.rate_limited:
            stats.deferred += 1
            continue
        try:
            changed = await poll_subject(deps, subject, stats, now=now)
        except BudgetSpent:
            stats.deferred += 1
            continue
        except PortError as exc:  # nothing of this subject was stored: the next run reads it again
            stats.deferred += 1
            if exc.code == RATE_LIMITED:  # Slack's Retry-After was obeyed and it still says no: stop here
                log.warning("cost polling: Slack rate-limits us; the rest waits for the next run")
                stats.rate_limited = True
            else:
                failures.append(f"{subject.kind} {subject.id}: {exc}")
            continue
        stats.incidents += subject.kind == INCIDENT
        stats.cases += subject.kind == CASE
        if changed:
            (stats.updated if subject.kind == INCIDENT else stats.updated_cases).append(subject.id)
            await show_cost(deps, subject)
    if failures:  # the others were costed; the run is still recorded as failed
        raise CostPollingFailed("; ".join(failures))
    return stats


async def poll_subject(deps: Deps, subject: Subject, stats: PollStats, *, now: datetime | None = None) -> bool:
    """Cost one incident or case (see the module docstring); True when its cost changed."""
    costs, conv = deps.config.costs, deps.ports.conversation
    now = now or utcnow()
    async with deps.sessions() as session:
        assignments = await _assignments(session, costs, subject.kind, subject.id, now)
        cursors = await _cursors(session, subject.channel)
        await session.commit()
    # The first assignment holds from the conversation's start (ts are not comparable to our clock to
    # the second); a later one from its whole second.
    activity_since = [0.0 if i == 0 else float(math.floor(since.timestamp()))
                      for i, (since, model) in enumerate(assignments) if model != CLASSIC_MODEL]
    top = cursors.get(subject.top_key)
    read = _Read(top.last_ts if top else None)
    reading = bool(activity_since) and _something_new(top, subject, now, costs)
    if not reading and top is not None and all(model != CLASSIC_MODEL for _, model in assignments):
        return False  # nothing said since the last read, no role time to count: nothing to do
    if reading:
        start = min(activity_since)
        if subject.thread:
            read = await _read_thread(conv, subject.channel, subject.thread, read, start, costs, stats)
        else:
            read = await _read_channel(conv, subject.channel, cursors, read, start, now, costs, stats)
    async with deps.sessions() as session:
        cursors = await _cursors(session, subject.channel)
        top = cursors.get(subject.top_key)
        if (top.last_ts if top else None) != read.top_last:
            await session.rollback()  # another run counted these messages first
            return False
        rate = costs.hourly_rate(await _project(session, subject, deps.config))
        changed = await _add_activities(session, subject, assignments, read, rate, costs)
        changed |= await _add_classic(session, subject, assignments, rate, now)
        if top is None:
            top = CostCursor(channel_id=subject.channel, thread_ts=subject.top_key, subject=subject.kind,
                             subject_id=subject.id)
            session.add(top)
        # an escalated case's channel becomes the incident's: the incident reads on from the case's cursor
        top.subject, top.subject_id = subject.kind, subject.id
        top.last_ts = _later(top.last_ts, read.new_top)
        if reading or not activity_since or top.polled_at is None:  # when the last read began
            top.polled_at = now
        for thread_ts, (last_reply, latest) in read.threads.items():
            row = cursors.get(thread_ts)
            if row is None:
                row = CostCursor(channel_id=subject.channel, thread_ts=thread_ts, subject=subject.kind,
                                 subject_id=subject.id)
                session.add(row)
            row.last_ts, row.latest_reply, row.polled_at = last_reply, latest, now
        await session.commit()
    stats.messages += len(read.activities)
    return changed


async def _quiet(session: AsyncSession, subjects: list[Subject], costs: CostsConfig,
                 now: datetime) -> set[tuple[str, int]]:
    """The subjects costed only by activity models whose conversation has nothing new (see
    `_something_new`), found with two queries for the whole run. A type change of one of them is
    seen at its next read (incidents: at once, by the update watcher)."""
    if not subjects:
        return set()
    models: dict[tuple[str, int], set[str]] = {}
    for kind in (INCIDENT, CASE):
        ids = [s.id for s in subjects if s.kind == kind]
        for subject_id, model in (await session.execute(
                select(col(CostModelAssignment.subject_id), col(CostModelAssignment.model))
                .where(col(CostModelAssignment.subject) == kind, col(CostModelAssignment.subject_id).in_(ids)))).all():
            models.setdefault((kind, subject_id), set()).add(model)
    channels = sorted({s.channel for s in subjects})
    tops = {(c.channel_id, c.thread_ts): c for c in (await session.execute(
        select(CostCursor).where(col(CostCursor.channel_id).in_(channels)))).scalars()}
    return {(s.kind, s.id) for s in subjects
            if models.get((s.kind, s.id)) and CLASSIC_MODEL not in models[(s.kind, s.id)]
            and not _something_new(tops.get((s.channel, s.top_key)), s, now, costs)}


def _something_new(top: CostCursor | None, subject: Subject, now: datetime, costs: CostsConfig) -> bool:
    """Whether to ask Slack: never read, a message event since the last read began, its last run, or
    not read for `sweep_minutes` (an event may have been missed)."""
    if top is None or top.polled_at is None or subject.final:
        return True
    if top.marked_at is not None and top.marked_at >= top.polled_at:
        return True
    return top.polled_at <= now - timedelta(minutes=costs.sweep_minutes)


async def mark_activity(deps: Deps, channel_id: str, thread_ts: str | None, *, user: str | None, bot: bool,
                        subtype: str | None) -> None:
    """A message event: when a person said something a model may count, mark its conversation for the
    cost job's next run. Writes at most once per conversation between two reads."""
    if not deps.config.costs.enabled or not counts(user, bot, subtype):
        return
    keys = ["", thread_ts] if thread_ts else [""]
    async with deps.sessions() as session:
        rows = (await session.execute(select(CostCursor).where(col(CostCursor.channel_id) == channel_id,
                                                               col(CostCursor.thread_ts).in_(keys)))).scalars().all()
        stale = [r for r in rows if r.marked_at is None or (r.polled_at is not None and r.marked_at < r.polled_at)]
        if stale:
            now = utcnow()
            for row in stale:
                row.marked_at = now
        await session.commit()


async def _project(session: AsyncSession, subject: Subject, config: WarroomConfig) -> str | None:
    """The project whose hourly rate applies (a case: the project its type escalates to)."""
    if subject.kind == INCIDENT:
        incident = await must_get(session, Incident, subject.id)
        return (await must_get(session, Project, incident.project_id)).name
    case = await must_get(session, Case, subject.id)
    return config.cases.type(case.case_type).project or config.default_project().name


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


async def _read_thread(conv: ConversationPort, channel: str, thread: str, read: _Read, start: float,
                       costs: CostsConfig, stats: PollStats) -> _Read:
    """New replies in a case's card thread (its whole conversation): thread activity."""
    seen = float(read.top_last) if read.top_last else start
    newest: str | None = None
    page_cursor: str | None = None
    while True:
        if stats.calls >= costs.calls_per_run:
            raise BudgetSpent
        stats.calls += 1
        page = await conv.replies(channel, thread, oldest=f"{seen:.6f}", cursor=page_cursor)
        for m in page.messages:
            if m.ts == thread or float(m.ts) <= seen:
                continue
            newest = _later(newest, m.ts)
            if _counts(m) and m.user:
                read.activities.append((m.user, float(m.ts), CostActivity.SLACK_THREAD_ACTIVITY))
        page_cursor = page.next_cursor
        if not page_cursor:
            break
    read.new_top = newest
    return read


async def _participant_row(session: AsyncSession, subject: Subject, model: str, user: str) -> ParticipantCost:
    row = (await session.execute(select(ParticipantCost).where(
        col(ParticipantCost.subject) == subject.kind, col(ParticipantCost.subject_id) == subject.id,
        col(ParticipantCost.model) == model, col(ParticipantCost.user_id) == user))).scalar_one_or_none()
    if row is None:
        row = ParticipantCost(subject=subject.kind, subject_id=subject.id, model=model, user_id=user)
        session.add(row)
    return row


async def _participant_rows(session: AsyncSession, subject: Subject, model: str,
                            users: list[str]) -> dict[str, ParticipantCost]:
    """The share rows of `users` (one query; missing ones added)."""
    rows = {r.user_id: r for r in (await session.execute(select(ParticipantCost).where(
        col(ParticipantCost.subject) == subject.kind, col(ParticipantCost.subject_id) == subject.id,
        col(ParticipantCost.model) == model, col(ParticipantCost.user_id).in_(users)))).scalars()}
    for user in users:
        if user not in rows:
            rows[user] = ParticipantCost(subject=subject.kind, subject_id=subject.id, model=model, user_id=user)
            session.add(rows[user])
    return rows


async def _cost_row(session: AsyncSession, subject: Subject, model: str) -> ResponseCost:
    row = (await session.execute(select(ResponseCost).where(
        col(ResponseCost.subject) == subject.kind, col(ResponseCost.subject_id) == subject.id,
        col(ResponseCost.model) == model))).scalar_one_or_none()
    if row is None:
        row = ResponseCost(subject=subject.kind, subject_id=subject.id, model=model)
        session.add(row)
    return row


async def _add_activities(session: AsyncSession, subject: Subject, assignments: list[tuple[datetime, str]],
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
        rows = await _participant_rows(session, subject, model, sorted({a.participant for a in activities}))
        ends = {u: r.span_end for u, r in rows.items() if r.span_end is not None}
        added = extend_spans(ends, activities)
        total = await _cost_row(session, subject, model)
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


@dataclass
class _Roles:
    """What the classic model needs of a subject: role spans, when it was resolved, review hours due."""

    spans: list[RoleSpan]
    resolved_at: datetime | None
    review_participants: int | None = None  # closed incident: its participant count


async def _roles(session: AsyncSession, subject: Subject) -> _Roles:
    if subject.kind == INCIDENT:
        incident = await must_get(session, Incident, subject.id)
        spans = [RoleSpan(user, role, assumed, renounced) for user, role, assumed, renounced in (await session.execute(
            select(col(IndividualContact.slack_user_id), col(ParticipantRole.role), col(ParticipantRole.assumed_at),
                   col(ParticipantRole.renounced_at))
            .join(Participant, col(Participant.id) == col(ParticipantRole.participant_id))
            .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
            .where(col(Participant.incident_id) == incident.id))).all()]
        resolved = None if incident.status == IncidentStatus.ACTIVE else (incident.stable_at or incident.closed_at)
        count = None
        if incident.status == IncidentStatus.CLOSED:
            count = (await session.execute(select(func.count()).select_from(Participant)
                                           .where(col(Participant.incident_id) == incident.id))).scalar_one()
        return _Roles(spans, resolved, count)
    # A case has no roles: its assignee counts like a commander, its reporter like a reporter, anyone
    # else who worked it like a participant, from when they joined it; no review hours.
    case = await must_get(session, Case, subject.id)
    spans = []
    for user, added_at in (await session.execute(select(col(CaseParticipant.user_id), col(CaseParticipant.added_at))
                                                  .where(col(CaseParticipant.case_id) == case.id))).all():
        role = Role.COMMANDER if user == case.assignee else Role.REPORTER if user == case.reporter else Role.PARTICIPANT
        spans.append(RoleSpan(user, role, added_at))
    resolved = None if case.status in (CaseStatus.NEW, CaseStatus.TRIAGE) else (case.escalated_at or case.stable_at or case.closed_at)
    return _Roles(spans, resolved)


async def _add_classic(session: AsyncSession, subject: Subject, assignments: list[tuple[datetime, str]],
                       rate: int, now: datetime) -> bool:
    if not any(model == CLASSIC_MODEL for _, model in assignments):
        return False
    row = await _cost_row(session, subject, CLASSIC_MODEL)
    roles = await _roles(session, subject)
    hours: dict[str, float] = {}
    for lo, hi in classic_windows(assignments, CLASSIC_MODEL, row.calculated_until, now):
        for user, h in classic_hours(roles.spans, since=lo, until=hi, resolved_at=roles.resolved_at).items():
            hours[user] = hours.get(user, 0.0) + h
    changed = False
    if roles.review_participants is not None and not row.review_added:
        row.review_added = True
        row.hours += review_hours(roles.review_participants)
        row.amount += review_hours(roles.review_participants) * rate
        changed = True
    for user, h in hours.items():
        prow = await _participant_row(session, subject, CLASSIC_MODEL, user)
        prow.hours += h
        prow.amount += h * rate
        row.hours += h
        row.amount += h * rate
        changed |= abs(h) * rate >= 0.005
    row.calculated_until = now
    row.updated_at = utcnow()
    return changed


async def show_cost(deps: Deps, subject: Subject) -> None:
    """Show the new cost where people read it: the incident's pinned summary, the case's card."""
    if subject.kind == CASE:
        try:
            await show_change(deps, subject.id)
        except PortError:  # the figure is stored; the card shows it at the next change
            log.warning("could not show the response cost of case %s", subject.id, exc_info=True)
        return
    await show_incident_cost(deps, subject.id)


async def show_incident_cost(deps: Deps, incident_id: int) -> None:
    """Edit the incident's pinned summary, and its closing summary once closed, in place."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        channel = incident.channel_id
        edits: list[tuple[str, Notice]] = []
        if channel and incident.summary_message_ts:
            edits.append((incident.summary_message_ts, await incident_summary(session, incident, deps.config)))
        if channel and incident.closing_message_ts:
            edits.append((incident.closing_message_ts, await closing_summary(session, incident, deps.config)))
        await session.commit()
    for ts, notice in edits:
        try:
            await deps.ports.conversation.update(channel or "", ts, notice)
        except PortError:  # the figure is stored; the message shows it at the next change
            log.warning("could not show the response cost of incident %s", incident_id, exc_info=True)
