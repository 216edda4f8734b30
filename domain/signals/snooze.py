"""Snoozes: filters people make from a signal case card so that alerts carrying the same entities make no case
for a while. `matches` is the rule the signal worker applies; the rest stores, previews and lists snoozes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.service import CaseRuleError, add_case_participant, record_case_event
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import PortError
from domain.core.vocabulary import FilterAction
from storage.case_models import Case
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance
from storage.types import utcnow

log = logging.getLogger(__name__)

# Choice value -> (label, duration); the modal offers exactly these.
EXPIRY_CHOICES: dict[str, tuple[str, timedelta]] = {
    "1h": ("1 hour", timedelta(hours=1)),
    "4h": ("4 hours", timedelta(hours=4)),
    "1d": ("1 day", timedelta(days=1)),
    "3d": ("3 days", timedelta(days=3)),
    "1w": ("1 week", timedelta(weeks=1)),
    "2w": ("2 weeks", timedelta(weeks=2)),
}
DEFAULT_EXPIRY = "1d"
PREVIEW_WINDOW = timedelta(days=7)
MAX_ENTITIES = 10  # Slack shows at most 10 checkboxes

Entity = tuple[str, str]  # (entity type, value)


@dataclass(frozen=True)
class SnoozeCreated(Notice):
    """Someone snoozed a definition's alerts from a case: told in the case card's thread, or to them (`to_snoozer`)."""

    user: str
    name: str
    definition: str
    entities: list[Entity]
    until: datetime
    duration: str  # "1 week"
    reason: str
    case_name: str
    to_snoozer: bool = False


def _pair(entity: Any) -> Entity:
    if isinstance(entity, Mapping):
        return str(entity["type"]), str(entity["value"])
    if hasattr(entity, "type") and hasattr(entity, "value"):  # EntityMatch of a config filter
        return str(entity.type), str(entity.value)
    entity_type, value = entity
    return str(entity_type), str(value)


def matches(filter_entities: Iterable[Any], instance_entities: Iterable[Any]) -> bool:
    """Whether an instance carrying `instance_entities` is caught by a snooze on `filter_entities`.

    Both accept {"type", "value"} mappings (as stored on SignalFilter) or (type, value) pairs. A snooze
    matches when the instance carries every one of its entities; a snooze without entities matches nothing.
    """
    wanted = {_pair(e) for e in filter_entities}
    return bool(wanted) and wanted <= {_pair(e) for e in instance_entities}


def expires_at(choice: str, now: datetime) -> datetime:
    """When a snooze made `now` with expiry `choice` (a key of EXPIRY_CHOICES) ends."""
    return now + EXPIRY_CHOICES[choice][1]


async def case_entities(session: AsyncSession, case_id: int, limit: int = MAX_ENTITIES) -> list[Entity]:
    """The entities of a case's signals, most frequent first (as its card lists them)."""
    query = (select(col(SignalEntity.entity_type), col(SignalEntity.value))
             .join(SignalInstance, col(SignalInstance.id) == col(SignalEntity.instance_id))
             .where(col(SignalInstance.case_id) == case_id)
             .group_by(col(SignalEntity.entity_type), col(SignalEntity.value))
             .order_by(func.count().desc(), col(SignalEntity.entity_type), col(SignalEntity.value))
             .limit(limit))
    return [(t, v) for t, v in (await session.execute(query)).all()]


async def preview(session: AsyncSession, definition: str, entities: Iterable[Any], since: datetime) -> tuple[int, int]:
    """(matched, total): how many instances of `definition` received since `since` carry all `entities`, of how many."""
    wanted = sorted({_pair(e) for e in entities})
    recent = and_(col(SignalInstance.definition) == definition, col(SignalInstance.received_at) >= since)
    total = (await session.execute(select(func.count()).select_from(SignalInstance).where(recent))).scalar_one()
    if not wanted or not total:
        return 0, total
    # (instance_id, entity_type, value) is unique, so an instance carrying them all has len(wanted) rows here.
    carrying = (select(col(SignalEntity.instance_id))
                .join(SignalInstance, col(SignalInstance.id) == col(SignalEntity.instance_id))
                .where(recent, or_(*(and_(col(SignalEntity.entity_type) == t, col(SignalEntity.value) == v) for t, v in wanted)))
                .group_by(col(SignalEntity.instance_id))
                .having(func.count() == len(wanted)))
    matched = (await session.execute(select(func.count()).select_from(carrying.subquery()))).scalar_one()
    return matched, total


async def create_snooze(
    session: AsyncSession, *, definition: str, name: str, entities: Iterable[Any], expires_at: datetime,
    created_by: str | None, reason: str = "", case_id: int | None = None,
) -> SignalFilter:
    """Store a snooze on `definition` and, when made from a case, note it on the case timeline. Flushes, does not commit."""
    stored = [{"type": t, "value": v} for t, v in dict.fromkeys(_pair(e) for e in entities)]
    if not stored:
        raise ValueError("a snooze needs at least one entity")
    snooze = SignalFilter(name=name, reason=reason, action=FilterAction.SNOOZE, definition=definition, entities=stored,
                          expires_at=expires_at, created_by=created_by, case_id=case_id)
    session.add(snooze)
    await session.flush()
    if case_id is not None:
        who = f"<@{created_by}>" if created_by else "warroom"
        shown = ", ".join(f"{e['type']}: {e['value']}" for e in stored)
        await record_case_event(
            session, case_id, f"Snoozed by {who} until {expires_at:%Y-%m-%d %H:%M} UTC: {name} ({shown})",
            author=created_by, details={"filter_id": snooze.id, "definition": definition, "entities": stored,
                                        "expires_at": expires_at.isoformat(), "reason": reason})
    return snooze


def in_force(now: datetime) -> ColumnElement[bool]:
    """Where-clause: stored snoozes not expired at `now`."""
    return and_(col(SignalFilter.action) == FilterAction.SNOOZE, or_(col(SignalFilter.expires_at).is_(None), col(SignalFilter.expires_at) > now))


async def active_snoozes_by_definition(session: AsyncSession, definitions: Iterable[str],
                                       now: datetime) -> dict[str, list[SignalFilter]]:
    """Snoozes in force on each of `definitions`, ending soonest first, in one query."""
    names = list(definitions)
    found: dict[str, list[SignalFilter]] = {name: [] for name in names}
    if not names:
        return found
    query = (select(SignalFilter).where(col(SignalFilter.definition).in_(names), in_force(now))
             .order_by(col(SignalFilter.expires_at), col(SignalFilter.id)))
    for snooze in (await session.execute(query)).scalars():
        if snooze.definition is not None:  # always: selected by definition
            found[snooze.definition].append(snooze)
    return found


async def end_snooze(session: AsyncSession, filter_id: int, user: str, now: datetime) -> SignalFilter | None:
    """End a snooze made in Slack now (alerts it held back stay as they are); notes it on its case. Does not commit.

    Returns the snooze, or None when there is no such snooze or it had already ended.
    """
    snooze = await session.get(SignalFilter, filter_id)
    if snooze is None or (snooze.expires_at is not None and snooze.expires_at <= now):
        return None
    snooze.expires_at = now
    if snooze.case_id is not None:
        await record_case_event(session, snooze.case_id, f"Snooze {snooze.name} ended by <@{user}>", author=user,
                                details={"filter_id": snooze.id})
    return snooze


@dataclass(frozen=True)
class SnoozeSubject:
    """A signal case whose alerts can be snoozed: what the snooze modal offers."""

    case_id: int
    case_name: str
    definition: str
    entities: list[Entity]


async def snooze_subject(session: AsyncSession, case_id: int) -> SnoozeSubject:
    """The case and its entities; CaseRuleError when it was not opened from signals or has no entities."""
    case = await session.get(Case, case_id)
    if case is None or not case.signal_definition:
        raise CaseRuleError("Only cases opened from signals can be snoozed.")
    entities = await case_entities(session, case.id)
    if not entities:
        raise CaseRuleError(f"{case.name} has no entities to snooze on.")
    return SnoozeSubject(case.id, case.name, case.signal_definition, entities)


async def snooze_refusal(session: AsyncSession, case_id: int) -> str | None:
    """At submit: why the case can no longer be snoozed (gone, or nothing to snooze on), or None."""
    if await session.get(Case, case_id) is None:
        return "That case no longer exists."
    try:
        await snooze_subject(session, case_id)
    except CaseRuleError as exc:
        return str(exc)
    return None


async def recent_preview(session: AsyncSession, definition: str, entities: Iterable[Any]) -> tuple[int, int]:
    """`preview` over the last PREVIEW_WINDOW."""
    return await preview(session, definition, entities, utcnow() - PREVIEW_WINDOW)


async def snooze_from_case(
    deps: Deps, case_id: int, *, definition: str, name: str, reason: str, entities: list[Any], expiry: str, actor: str,
) -> SignalFilter | None:
    """Store a snooze made with a case card's Snooze button (its maker joins the case), then say so in the
    card's thread and to its maker. None when the case no longer exists."""
    conv = deps.ports.conversation
    until = expires_at(expiry, utcnow())
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            log.warning("snooze of a case that no longer exists: %s", case_id)
            return None
        snooze = await create_snooze(session, definition=definition, name=name, reason=reason, entities=entities,
                                     expires_at=until, created_by=actor, case_id=case.id)
        await add_case_participant(session, case.id, actor, "Snoozed its alerts")
        await session.commit()
        channel, ts = case.card_channel_id, case.card_ts
        case_name, snooze_name = case.name, snooze.name
    if not (channel and ts):
        return snooze
    notice = SnoozeCreated(actor, snooze_name, definition, [_pair(e) for e in entities], until,
                           EXPIRY_CHOICES[expiry][0], reason, case_name)
    await conv.post(channel, notice, thread_ts=ts)
    try:
        await conv.post_ephemeral(channel, actor, replace(notice, to_snoozer=True))
    except PortError as exc:  # not in the card's channel any more: the thread reply says it all
        log.info("snooze confirmation to %s not shown: %s", actor, exc)
    return snooze


@dataclass(frozen=True)
class EndedSnooze:
    name: str
    definition: str
    card: tuple[str, str] | None  # (channel, ts) of its case's card, for a note in the card's thread


async def end_snooze_now(session: AsyncSession, filter_id: int, user: str) -> EndedSnooze | None:
    """End a snooze made in Slack now (`end_snooze`) and commit; None when it had already ended."""
    snooze = await end_snooze(session, filter_id, user, utcnow())
    await session.commit()
    if snooze is None:
        return None
    case = await session.get(Case, snooze.case_id) if snooze.case_id else None
    card = (case.card_channel_id, case.card_ts) if case is not None and case.card_channel_id and case.card_ts else None
    return EndedSnooze(snooze.name, snooze.definition or "every definition", card)
