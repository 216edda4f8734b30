"""Cases: storing them, their timeline and participants, status rules, and the facts a card shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.notices import Notice
from domain.core.vocabulary import CaseStatus, ResolutionReason, Visibility
from domain.incidents.tags import cases_tag_labels, tag_signal_case
from storage.case_models import Case, CaseEvent, CaseParticipant
from storage.cost_models import CASE_SUBJECT, subject_costs
from storage.counters import next_number, next_numbers
from storage.models import Incident, IndividualContact, Participant
from storage.rows import table_of
from storage.signal_models import SignalEntity, SignalInstance
from storage.ticket_models import CaseTicket
from storage.types import utcnow
from storage.upsert import upsert_insert

# Which status may follow which; Closed may be reopened (back to Triage). Keyed by the status as stored
# (a plain string, equal to its member).
TRANSITIONS: dict[str, tuple[CaseStatus, ...]] = {
    CaseStatus.NEW: (CaseStatus.TRIAGE, CaseStatus.ESCALATED, CaseStatus.STABLE, CaseStatus.CLOSED),
    CaseStatus.TRIAGE: (CaseStatus.ESCALATED, CaseStatus.STABLE, CaseStatus.CLOSED),
    CaseStatus.ESCALATED: (CaseStatus.STABLE, CaseStatus.CLOSED),
    CaseStatus.STABLE: (CaseStatus.TRIAGE, CaseStatus.ESCALATED, CaseStatus.CLOSED),
    CaseStatus.CLOSED: (CaseStatus.TRIAGE,),
}
RESOLUTION_REASONS: dict[ResolutionReason, str] = {
    ResolutionReason.BENIGN: "The activity was expected or harmless.",
    ResolutionReason.CONTAINED: "The threat was contained before it caused harm.",
    ResolutionReason.ESCALATED: "The case became an incident.",
    ResolutionReason.FALSE_POSITIVE: "The alert fired on something that did not happen.",
    ResolutionReason.INFORMATION_GATHERED: "Facts were collected; no further action needed.",
    ResolutionReason.INSUFFICIENT_INFORMATION: "Not enough information to reach a conclusion.",
    ResolutionReason.MITIGATED: "The cause was fixed or its impact removed.",
    ResolutionReason.OPERATIONAL_ERROR: "A mistake in operations, not malicious activity.",
    ResolutionReason.POLICY_VIOLATION: "Someone broke a policy; follow-up with them or their manager.",
    ResolutionReason.USER_ACKNOWLEDGED: "The person involved confirmed the activity was theirs.",
}
CARD_ENTITIES = 8
CARD_STORE_WAIT = 10.0  # seconds a thread reply waits for its card's ts to be stored (`case_of_thread`)


class CaseRuleError(Exception):
    """A change the rules forbid (e.g. an impossible status move); the message says why."""


@dataclass(frozen=True)
class CaseFacts(Notice):
    """A case as cards and lists show it."""

    id: int
    name: str
    title: str
    description: str
    status: str
    case_type: str
    priority: str
    severity: str
    assignee: str | None
    reporter: str | None
    created_at: datetime
    resolution_reason: str | None = None
    resolution: str | None = None
    signal_definition: str | None = None
    runbook: str | None = None
    alert_count: int = 0
    entities: list[tuple[str, str]] = field(default_factory=list)
    snoozable: bool = False
    channel_id: str | None = None  # its own channel
    incident_name: str | None = None
    incident_channel_id: str | None = None
    card_link: str | None = None
    # Escalated to a Restricted incident: the card, seen by everyone where it was posted, says only that
    # (incident_name and incident_channel_id stay None, and so does channel_id once it is the incident's).
    incident_hidden: bool = False
    tags: list[str] = field(default_factory=list)  # "Type: tag"
    response_cost: str | None = None  # e.g. "$120.00", once the cost job has costed it
    ticket_key: str | None = None  # its Jira ticket (case types with `ticket: true`), once created
    ticket_url: str | None = None

    @property
    def escalated(self) -> bool:
        return self.incident_name is not None or self.incident_hidden


async def create_case(
    session: AsyncSession,
    config: WarroomConfig,
    *,
    title: str,
    description: str = "",
    case_type: str | None = None,
    priority: str | None = None,
    severity: str | None = None,
    assignee: str | None = None,
    reporter: str | None = None,
    signal_definition: str | None = None,
    conversation_target: str | None = None,
    idempotency_key: str | None = None,
    origin: str = "",
) -> tuple[Case, bool]:
    """Store a New case (names resolved against the config, defaults for unknown ones); flushes, does not commit.

    Returns (case, created); an `idempotency_key` already used returns that case instead.
    """
    if idempotency_key is not None:
        existing = await case_by_key(session, idempotency_key)
        if existing is not None:
            return existing, False
    ctype = config.cases.type(case_type)
    number = await next_number(session, "case")
    case = Case(**_new_case_values(
        config, number, utcnow(), title=title, description=description, case_type=ctype.name, priority=priority,
        severity=severity, assignee=assignee, reporter=reporter, signal_definition=signal_definition,
        conversation_target=conversation_target, idempotency_key=idempotency_key))
    session.add(case)
    await session.flush()
    await record_case_event(session, case.id, _opened(reporter, signal_definition, case.title, origin), author=reporter, dedupe_key=f"case:{case.id}:created")
    for user, reason in ((reporter, "Reported the case"), (assignee, "Assignee")):
        if user:
            await add_case_participant(session, case.id, user, reason)
    if signal_definition:
        await tag_signal_case(session, config, case.id, signal_definition)
    return case, True


@dataclass(frozen=True)
class SignalCase:
    """A case a signal asks for: what `create_signal_cases` needs of each."""

    title: str
    description: str
    case_type: str
    priority: str | None
    signal_definition: str
    conversation_target: str | None
    idempotency_key: str
    instance_id: str


async def create_signal_cases(session: AsyncSession, config: WarroomConfig, wanted: list[SignalCase],
                              now: datetime) -> list[tuple[int, bool]]:
    """Store a New case per signal (each counting its first alert), in a few statements however many there
    are — a burst of new alerts opens hundreds. Same rows and timeline as `create_case`; does not commit.

    Returns (case id, created) per entry, in order; a key already used returns that case, not created.
    """
    keys = [w.idempotency_key for w in wanted]
    existing: dict[str | None, int] = {key: case_id for key, case_id in (await session.execute(
        select(col(Case.idempotency_key), col(Case.id)).where(col(Case.idempotency_key).in_(keys)))).all()}
    todo = [w for w in wanted if w.idempotency_key not in existing]
    created: dict[str, int] = {}
    if todo:
        table = table_of(Case)
        rows = [_new_case_values(config, number, now, title=w.title, description=w.description, case_type=w.case_type,
                                 priority=w.priority, signal_definition=w.signal_definition,
                                 conversation_target=w.conversation_target, idempotency_key=w.idempotency_key)
                | {"alert_count": 1}
                for w, number in zip(todo, await next_numbers(session, "case", len(todo)), strict=True)]
        ids = (await session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)).all()
        created = {w.idempotency_key: case_id for w, case_id in zip(todo, ids, strict=True)}
        events = table_of(CaseEvent)
        await session.execute(upsert_insert(session, events).on_conflict_do_nothing(index_elements=["dedupe_key"]), [
            dict(case_id=created[w.idempotency_key], started_at=now, source=source, description=text, author=None,
                 details=details, dedupe_key=key)
            for w, row in zip(todo, rows, strict=True)
            for source, text, details, key in (
                ("warroom", _opened(None, w.signal_definition, row["title"]), None,
                 f"case:{created[w.idempotency_key]}:created"),
                ("signal", f"Signal received: {w.signal_definition}", {"instance": w.instance_id},
                 f"signal:{w.instance_id}"))])
        for w in todo:
            await tag_signal_case(session, config, created[w.idempotency_key], w.signal_definition)
    return [(existing[k], False) if k in existing else (created[k], True) for k in keys]


def _new_case_values(config: WarroomConfig, number: int, now: datetime, *, title: str, description: str,
                     case_type: str, priority: str | None, severity: str | None = None, assignee: str | None = None,
                     reporter: str | None = None, signal_definition: str | None, conversation_target: str | None,
                     idempotency_key: str | None) -> dict[str, Any]:
    """The columns of a New case (names resolved against the config, defaults for unknown ones; a Restricted
    type's cases always go to the type's own conversation target)."""
    ctype = config.cases.type(case_type)
    if ctype.visibility == Visibility.RESTRICTED:  # sealed: its cards go only where its type says
        conversation_target = ctype.conversation_target
    return dict(number=number, name=f"CASE-{number}", title=title[:200], description=description, status=CaseStatus.NEW,
                case_type=ctype.name, priority=config.cases.priority(priority).name,
                severity=config.cases.severity(severity).name, assignee=assignee, reporter=reporter,
                signal_definition=signal_definition, conversation_target=conversation_target or ctype.conversation_target,
                idempotency_key=idempotency_key, alert_count=0, card_alert_count=0, created_at=now, updated_at=now)


def _opened(reporter: str | None, signal_definition: str | None, title: str, origin: str = "") -> str:
    """The first line of a case's timeline."""
    who = f"<@{reporter}>" if reporter else (f"signal {signal_definition}" if signal_definition else "warroom")
    return f"Case opened by {who}: {title}{origin}"


async def case_by_key(session: AsyncSession, key: str) -> Case | None:
    return (await session.execute(select(Case).where(col(Case.idempotency_key) == key))).scalar_one_or_none()


async def case_by_card(session: AsyncSession, channel_id: str, ts: str) -> Case | None:
    """The case whose card is the message at (channel, ts), i.e. whose thread that is."""
    query = select(Case).where(col(Case.card_channel_id) == channel_id, col(Case.card_ts) == ts)
    return (await session.execute(query)).scalars().first()


async def case_of_thread(sessions: async_sessionmaker[AsyncSession], channel_id: str, thread_ts: str) -> Case | None:
    """`case_by_card` for a reply in a thread. A reply may come between Slack's answer to a card's post and the
    store of its ts (cards are stored by the round, `cards._post_cards`): while a card of that channel is being
    posted, look again, less and less often, for at most CARD_STORE_WAIT."""
    deadline, pause = time.monotonic() + CARD_STORE_WAIT, 0.1
    while True:
        async with sessions() as session:
            case = await case_by_card(session, channel_id, thread_ts)
            posting = case is None and (await session.execute(select(col(Case.id)).where(
                col(Case.conversation_target) == channel_id, col(Case.card_ts).is_(None),
                col(Case.card_synced_at) > utcnow() - timedelta(seconds=CARD_STORE_WAIT)).limit(1))).first() is not None
            await session.commit()
        if not posting or time.monotonic() > deadline:
            return case
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


async def case_by_channel(session: AsyncSession, channel_id: str) -> Case | None:
    """The case whose own channel this is."""
    return (await session.execute(select(Case).where(col(Case.channel_id) == channel_id))).scalar_one_or_none()


async def case_by_name(session: AsyncSession, name: str) -> Case | None:
    return (await session.execute(select(Case).where(func.upper(col(Case.name)) == name.strip().upper()))).scalar_one_or_none()


async def case_for_command(session: AsyncSession, text: str | None, channel_id: str | None) -> Case | None:
    """The case a command is about: named first in its text (`CASE-12`), else the case whose own channel it ran in."""
    text = (text or "").strip()
    named = await case_by_name(session, text.split(" ", 1)[0]) if text else None
    return named or await case_by_channel(session, channel_id or "")


async def record_case_event(
    session: AsyncSession, case_id: int, description: str, *, source: str = "warroom", author: str | None = None,
    details: dict[str, Any] | None = None, dedupe_key: str | None = None, started_at: datetime | None = None,
) -> bool:
    """Add an entry to the case timeline (at most once per `dedupe_key`); does not commit."""
    values = dict(case_id=case_id, description=description, source=source, author=author, details=details,
                  dedupe_key=dedupe_key, started_at=started_at or utcnow())
    if dedupe_key is None:
        stmt = insert(CaseEvent).values(**values)
    else:
        stmt = upsert_insert(session, CaseEvent).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return (cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0) > 0


async def add_case_participant(session: AsyncSession, case_id: int, user_id: str, reason: str = "") -> bool:
    """Record `user_id` as working the case; already there is not an error. Returns whether added."""
    stmt = (upsert_insert(session, CaseParticipant)
            .values(case_id=case_id, user_id=user_id, reason=reason, added_at=utcnow())
            .on_conflict_do_nothing(index_elements=["case_id", "user_id"]))
    return (cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0) > 0


async def case_participants(session: AsyncSession, case_id: int) -> list[str]:
    query = select(col(CaseParticipant.user_id)).where(col(CaseParticipant.case_id) == case_id).order_by(col(CaseParticipant.id))
    return list((await session.execute(query)).scalars())


async def set_status(session: AsyncSession, case: Case, status: str, actor: str | None) -> bool:
    """Move the case to `status` following TRANSITIONS, stamping the time; records it. Does not commit.

    Returns False when the case already has that status; raises CaseRuleError for a forbidden move.
    """
    if status == case.status:
        return False
    if status not in TRANSITIONS.get(case.status, ()):
        raise CaseRuleError(f"{case.name} is {case.status}; it cannot become {status}.")
    now = utcnow()
    previous, case.status, case.updated_at = case.status, status, now
    stamps: dict[str, str] = {CaseStatus.TRIAGE: "triage_at", CaseStatus.ESCALATED: "escalated_at",
                              CaseStatus.STABLE: "stable_at", CaseStatus.CLOSED: "closed_at"}
    stamp = stamps[status]
    if getattr(case, stamp) is None or status == CaseStatus.CLOSED:
        setattr(case, stamp, now)
    if previous == CaseStatus.CLOSED:
        case.closed_at = None
    who = f" by <@{actor}>" if actor else ""
    await record_case_event(session, case.id, f"Status changed from {previous} to {status}{who}", author=actor,
                            details={"from": previous, "to": status})
    return True


async def case_facts(session: AsyncSession, case: Case, config: WarroomConfig, card_link: str | None = None) -> CaseFacts:
    """Everything a case card shows."""
    return (await cases_facts(session, [case], config, {case.id: card_link} if card_link else None))[case.id]


async def cases_facts(session: AsyncSession, cases: list[Case], config: WarroomConfig,
                      card_links: dict[int, str] | None = None) -> dict[int, CaseFacts]:
    """`case_facts` of each case, by case id, in at most five queries however many cases there are."""
    ids = [c.id for c in cases if c.id is not None]
    entities = await _top_entities(session, [c.id for c in cases if c.signal_definition and c.id is not None])
    incident_ids = {c.incident_id for c in cases if c.incident_id}
    incidents = {i.id: i for i in (await session.execute(
        select(Incident).where(col(Incident.id).in_(incident_ids)))).scalars()} if incident_ids else {}
    costs = await subject_costs(session, CASE_SUBJECT, ids) if config.costs.enabled else {}
    tickets = {case_id: (key, url) for case_id, key, url in (await session.execute(
        select(col(CaseTicket.case_id), col(CaseTicket.key), col(CaseTicket.url)).where(
            col(CaseTicket.case_id).in_(ids), col(CaseTicket.key).is_not(None), col(CaseTicket.url).is_not(None))))}
    tags = await cases_tag_labels(session, ids)
    facts = {}
    for case in cases:
        assert case.id is not None
        incident = incidents.get(case.incident_id) if case.incident_id else None
        hidden = incident is not None and incident.visibility == Visibility.RESTRICTED
        channel_id = None if incident is not None and hidden and case.channel_id == incident.channel_id else case.channel_id
        definition = config.signals.definition(case.signal_definition) if case.signal_definition else None
        cost, ticket = costs.get(case.id), tickets.get(case.id)
        facts[case.id] = CaseFacts(
            id=case.id, name=case.name, title=case.title, description=case.description, status=case.status,
            case_type=case.case_type, priority=case.priority, severity=case.severity, assignee=case.assignee,
            reporter=case.reporter, created_at=case.created_at, resolution_reason=case.resolution_reason,
            resolution=case.resolution, signal_definition=case.signal_definition,
            runbook=definition.runbook if definition else None, alert_count=case.alert_count,
            entities=entities.get(case.id, []), snoozable=case.signal_definition is not None, channel_id=channel_id,
            incident_name=incident.name if incident and not hidden else None,
            incident_channel_id=incident.channel_id if incident and not hidden else None,
            card_link=(card_links or {}).get(case.id), incident_hidden=hidden, tags=tags.get(case.id, []),
            response_cost=config.costs.money(cost) if config.costs.enabled and cost is not None else None,
            ticket_key=ticket[0] if ticket else None, ticket_url=ticket[1] if ticket else None,
        )
    return facts


async def _top_entities(session: AsyncSession, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The CARD_ENTITIES entities seen most often in each case's alerts (ties by type, then value)."""
    if not case_ids:
        return {}
    seen = func.count()
    ranked = (select(col(SignalInstance.case_id).label("case_id"), col(SignalEntity.entity_type).label("entity_type"),
                     col(SignalEntity.value).label("value"),
                     func.row_number().over(partition_by=col(SignalInstance.case_id),
                                            order_by=(seen.desc(), col(SignalEntity.entity_type), col(SignalEntity.value)))
                     .label("rank"))
              .join(SignalInstance, col(SignalInstance.id) == col(SignalEntity.instance_id))
              .where(col(SignalInstance.case_id).in_(case_ids))
              .group_by(col(SignalInstance.case_id), col(SignalEntity.entity_type), col(SignalEntity.value))
              .subquery())
    top: dict[int, list[tuple[str, str]]] = {}
    for case_id, entity_type, value in (await session.execute(
            select(ranked.c.case_id, ranked.c.entity_type, ranked.c.value)
            .where(ranked.c.rank <= CARD_ENTITIES).order_by(ranked.c.case_id, ranked.c.rank))):
        top.setdefault(case_id, []).append((entity_type, value))
    return top


async def store_or_existing(session: AsyncSession, make: Callable[[], Awaitable[tuple[Case, bool]]],
                            key: str) -> tuple[Case, bool]:
    """Run `make()` (which flushes a new row keyed by `key`) and commit; on a concurrent duplicate return the winner."""
    try:
        result = await make()
        await session.commit()
        return result
    except IntegrityError:
        await session.rollback()
        existing = await case_by_key(session, key)
        if existing is None:
            raise
        return existing, False


@dataclass(frozen=True)
class CaseRef:
    """A case as a list line shows it."""

    name: str
    title: str
    status: str
    priority: str
    assigned: bool  # to the person the list is for
    channel_id: str | None  # its own channel, else the channel of its card
    card: tuple[str, str] | None  # (channel, ts) of its card


async def open_cases_for(session: AsyncSession, user_id: str, limit: int = 20) -> list[CaseRef]:
    """Cases not Closed that `user_id` is assigned to or works on, assigned ones first, newest first (2 queries).

    A case whose own channel became a Restricted incident's points to its card instead, unless `user_id` is
    in that incident."""
    rows = (await session.execute(
        select(Case, Incident).outerjoin(CaseParticipant, and_(col(CaseParticipant.case_id) == col(Case.id),
                                                               col(CaseParticipant.user_id) == user_id))
        .outerjoin(Incident, col(Incident.id) == col(Case.incident_id))
        .where(col(Case.status) != CaseStatus.CLOSED, or_(col(Case.assignee) == user_id, col(CaseParticipant.id).is_not(None)))
        .order_by((col(Case.assignee) == user_id).desc(), col(Case.id).desc()).limit(limit))).unique().all()
    sealed = {i.id for _, i in rows if i is not None and i.visibility == Visibility.RESTRICTED}
    inside = set((await session.execute(
        select(col(Participant.incident_id)).join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .where(col(Participant.incident_id).in_(sealed), col(IndividualContact.slack_user_id) == user_id))).scalars()) if sealed else set()

    def channel(c: Case, i: Incident | None) -> str | None:
        hidden = i is not None and i.id in sealed and i.id not in inside and c.channel_id == i.channel_id
        return (None if hidden else c.channel_id) or c.card_channel_id

    return [CaseRef(c.name, c.title, c.status, c.priority, c.assignee == user_id, channel(c, i),
                    (c.card_channel_id, c.card_ts) if c.card_channel_id and c.card_ts else None) for c, i in rows]
