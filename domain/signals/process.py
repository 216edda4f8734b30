"""Processing stored signal instances: extract entities, apply snoozes, deduplicate, or open a case.

Works on a batch (the worker's claim) inside one transaction: a handful of statements per batch
rather than per alert, which is what lets a burst of thousands of alerts turn into cases in
seconds. Decisions are made in (definition, received) order with what earlier instances of the
same batch decided, so a batch gives the same result as processing its instances one by one.
Everything written commits (or rolls back) together with the instances' status.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Row, Select, String, all_, and_, bindparam, func, or_, select, text, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from domain.cases.service import SignalCase, create_case, create_signal_cases, record_case_event, set_status
from domain.config.schema import WarroomConfig
from domain.config.signals import EntityMatch, SignalDefinitionConfig, SignalFilterConfig
from domain.core.vocabulary import CaseStatus, FilterAction, ResolutionReason, SignalStatus
from domain.incidents.tags import tag_case_entities
from domain.signals.extract import extract_entities
from domain.signals.snooze import in_force, matches
from domain.workflows import store_signal_run
from storage.case_models import Case
from storage.rows import table_of
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance
from storage.upsert import upsert_insert

CASE, DEDUPLICATED, SNOOZED, STORED, UNKNOWN = "case", "deduplicated", "snoozed", "stored", "unknown_definition"
Entity = tuple[str, str]
# (name, definition or None for every one, entities): a config filter's EntityMatch list, or a stored
# snooze's [{"type": ..., "value": ...}] (`snooze.matches` reads both).
Snooze = tuple[str, str | None, Sequence[EntityMatch] | Sequence[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class QueuedSignal:
    """What deciding needs of a stored instance (plain columns: loading ORM objects cost more than deciding)."""

    id: str
    definition: str
    raw: dict[str, Any]
    overrides: dict[str, Any] | None
    received_at: datetime


@dataclass(frozen=True)
class Outcome:
    outcome: str
    case_id: int | None = None
    new_case: bool = False
    filter_name: str | None = None


def batch_order(instances: list[QueuedSignal]) -> list[QueuedSignal]:
    """The order instances are decided in (and per-definition locks taken in, ruling out deadlocks)."""
    return sorted(instances, key=lambda i: (i.definition, i.received_at, i.id))


async def process_batch(session: AsyncSession, instances: list[QueuedSignal], config: WarroomConfig,
                        now: datetime) -> dict[str, Outcome]:
    """Decide what each instance becomes and write it all, statuses included; does not commit."""
    instances = batch_order(instances)
    found = {i.id: _entities(i, config) for i in instances}
    await _store_entities(session, instances, found, now)
    snoozes = await _active_snoozes(session, config, instances, now)
    wanting_cases = [i for i in instances if _wants_case(i, config) and _snooze_for(i, found[i.id], snoozes) is None]
    await _serialize(session, {f"definition:{i.definition}" for i in wanting_cases} | {
        f"entity:{t}:{v}" for i in wanting_cases
        for f in _dedup_filters(config, i.definition)
        for t, v in found[i.id] if t in f.entity_types})
    recent = await _recent_open_cases(session, config, wanting_cases, found, now)

    outcomes: dict[str, Outcome] = {}
    bumps: dict[int, int] = {}
    new_cases: list[SignalCase] = []  # opened together after the loop; until then case id -n is the n-th
    for instance in instances:
        definition = config.signals.definition(instance.definition)
        if definition is None:  # removed from the config since it was accepted: keep it, make nothing
            outcomes[instance.id] = Outcome(UNKNOWN)
            continue
        snooze = _snooze_for(instance, found[instance.id], snoozes)
        if snooze is not None:
            outcomes[instance.id] = Outcome(SNOOZED, filter_name=snooze)
            continue
        if not definition.create_case:
            outcomes[instance.id] = Outcome(STORED)
            continue
        case_id, via = recent.match(config, definition, instance, found[instance.id])
        if case_id is not None:
            bumps[case_id] = bumps.get(case_id, 0) + 1
            outcomes[instance.id] = Outcome(DEDUPLICATED, case_id, filter_name=via)
        else:
            wanted = _case_for(config, definition, instance)
            if config.cases.type(wanted.case_type).auto_close:  # rare: closed at once, one at a time
                outcomes[instance.id] = await _open_closed_case(session, config, wanted)
            else:
                new_cases.append(wanted)
                outcomes[instance.id] = Outcome(CASE, -len(new_cases), new_case=True)
        recent.remember(instance, found[instance.id], outcomes[instance.id].case_id)

    if new_cases:
        opened = await create_signal_cases(session, config, new_cases, now)
        outcomes = {i: _opened(o, opened) for i, o in outcomes.items()}
        bumps = {(opened[-c - 1][0] if c < 0 else c): n for c, n in bumps.items()}
    await _follow_cases(session, config, instances, outcomes, found)

    if bumps:  # one executemany, however many cases the batch touched
        table = table_of(Case)
        await session.execute(
            update(table).where(table.c.id == bindparam("b_case"))
            .values(alert_count=table.c.alert_count + bindparam("b_count"), updated_at=now),
            [{"b_case": case_id, "b_count": count} for case_id, count in sorted(bumps.items())])
    await _mark_processed(session, outcomes, now)
    return outcomes


def _entities(instance: QueuedSignal, config: WarroomConfig) -> set[Entity]:
    definition = config.signals.definition(instance.definition)
    if definition is None:
        return set()
    return set(extract_entities(instance.raw, config.signals.entity_types_for(definition)))


def _wants_case(instance: QueuedSignal, config: WarroomConfig) -> bool:
    definition = config.signals.definition(instance.definition)
    return definition is not None and definition.create_case


async def _store_entities(session: AsyncSession, instances: list[QueuedSignal], found: dict[str, set[Entity]],
                          now: datetime) -> None:
    rows = [dict(instance_id=i.id, entity_type=t, value=v, definition=i.definition, created_at=now)
            for i in instances for t, v in sorted(found[i.id])]
    if rows:  # executemany of one cached statement (a multi-VALUES statement would compile per batch)
        stmt = upsert_insert(session, SQLModel.metadata.tables[SignalEntity.__tablename__]).on_conflict_do_nothing(
            index_elements=["instance_id", "entity_type", "value"])
        await session.execute(stmt, rows)


async def _active_snoozes(session: AsyncSession, config: WarroomConfig, instances: list[QueuedSignal],
                          now: datetime) -> list[Snooze]:
    """(name, definition or None for all, entities) of every snooze in force: config ones, then those made in Slack."""
    snoozes: list[Snooze] = [(f.name, d, f.entities) for f in config.signals.snoozes_in_force(now)
                             for d in _definitions_or_every(f.definitions)]
    definitions = sorted({i.definition for i in instances})
    rows = (await session.execute(select(col(SignalFilter.name), col(SignalFilter.definition), col(SignalFilter.entities)).where(
        in_force(now), or_(col(SignalFilter.definition).is_(None), col(SignalFilter.definition).in_(definitions)))
        .order_by(col(SignalFilter.id)))).all()
    return snoozes + [(name, definition, entities or []) for name, definition, entities in rows]


def _definitions_or_every(definitions: list[str]) -> list[str | None]:
    """The definitions a config filter names, or [None] (every definition) when it names none."""
    return [*definitions] if definitions else [None]


def _snooze_for(instance: QueuedSignal, found: set[Entity], snoozes: list[Snooze]) -> str | None:
    return next((name for name, definition, wanted in snoozes
                 if definition in (None, instance.definition) and matches(wanted, found)), None)


async def _serialize(session: AsyncSession, names: set[str]) -> None:
    """On Postgres, alerts that could join the same case (same definition, or an entity a dedup filter
    matches on) are decided by one worker at a time, so two workers never open two cases for one
    burst. The locks are taken in key order, the same in every worker, so no two workers wait on
    each other in a cycle. SQLite has a single writer already."""
    if names and session.get_bind().dialect.name == "postgresql":
        keys = sorted({zlib.crc32(name.encode()) for name in names})
        await session.execute(text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS sorted"),
                              {"keys": keys})


class _RecentCases:
    """Open cases that new instances may join: found in the database for the batch, then kept
    current as the batch's own instances are decided."""

    def __init__(self) -> None:
        self.by_definition: dict[str, tuple[datetime, int]] = {}  # definition -> (received_at, case)
        self.by_entity: dict[Entity, tuple[datetime, int]] = {}  # entity -> (seen at, case)

    def match(self, config: WarroomConfig, definition: SignalDefinitionConfig, instance: QueuedSignal,
              found: set[Entity]) -> tuple[int | None, str | None]:
        for f in _dedup_filters(config, definition.name):
            window = timedelta(seconds=f.window_seconds)
            hits = [self.by_entity[e] for e in found if e[0] in f.entity_types and e in self.by_entity]
            hits = [h for h in hits if h[0] >= instance.received_at - window]
            if hits:
                return max(hits)[1], f.name
        last = self.by_definition.get(definition.name)
        if definition.dedup_window_seconds and last and last[0] >= instance.received_at - timedelta(
                seconds=definition.dedup_window_seconds):
            return last[1], None
        return None, None

    def remember(self, instance: QueuedSignal, found: set[Entity], case_id: int | None) -> None:
        if case_id is None:
            return
        self.by_definition[instance.definition] = (instance.received_at, case_id)
        for entity in found:
            self.by_entity[entity] = (instance.received_at, case_id)


def _dedup_filters(config: WarroomConfig, definition: str) -> list[SignalFilterConfig]:
    """The deduplicate filters applying to the definition called `definition`."""
    return [f for f in config.signals.filters
            if f.action == FilterAction.DEDUPLICATE and (not f.definitions or definition in f.definitions)]


async def _recent_open_cases(session: AsyncSession, config: WarroomConfig, instances: list[QueuedSignal],
                             found: dict[str, set[Entity]], now: datetime) -> _RecentCases:
    """The latest open case per definition (within its window) and per entity (within the filters' windows)."""
    recent = _RecentCases()
    open_case = and_(col(SignalInstance.case_id) == col(Case.id), col(Case.status) != CaseStatus.CLOSED)
    batch_ids = [i.id for i in instances]
    for name in sorted({i.definition for i in instances}):
        definition = config.signals.definition(name)
        if definition is None or not definition.dedup_window_seconds:  # (instances wanting a case have one)
            continue
        since = min(i.received_at for i in instances if i.definition == name) - timedelta(
            seconds=definition.dedup_window_seconds)
        row = (await session.execute(
            select(col(SignalInstance.received_at), col(SignalInstance.case_id)).join(Case, open_case)
            .where(col(SignalInstance.definition) == name, col(SignalInstance.received_at) >= since,
                   col(SignalInstance.id).not_in(batch_ids))
            .order_by(col(SignalInstance.received_at).desc()).limit(1))).first()
        if row is not None and row[1] is not None:  # (joined to its case: never None)
            recent.by_definition[name] = (row[0], row[1])
    filters = [f for name in {i.definition for i in instances} for f in _dedup_filters(config, name)]
    if filters:
        types = {t for f in filters for t in f.entity_types}
        keys = sorted({e for i in instances for e in found[i.id] if e[0] in types})
        window = max(f.window_seconds for f in filters)
        if keys:
            rows = await _latest_entity_cases(session, keys, now - timedelta(seconds=window), batch_ids)
            for entity_type, value, received_at, case_id in rows:
                key = (entity_type, value)
                if case_id is None:  # (joined to its case: never)
                    continue
                if key not in recent.by_entity or recent.by_entity[key][0] < received_at:
                    recent.by_entity[key] = (received_at, case_id)
    return recent


async def _latest_entity_cases(session: AsyncSession, keys: list[Entity], since: datetime,
                               batch_ids: list[str]) -> Sequence[Row[str, str, datetime, int | None]]:
    """(type, value, received_at, case_id) of instances since `since` carrying these entities and joined to an
    open case, outside the batch. Postgres: only the latest per entity, read off its index newest first, so
    the cost stays one short index walk per entity however many alerts carried it; SQLite: every one."""
    open_case = and_(col(SignalInstance.case_id) == col(Case.id), col(Case.status) != CaseStatus.CLOSED)
    instance, case = col(SignalInstance.received_at), col(SignalInstance.case_id)
    entity_type, value, created_at = col(SignalEntity.entity_type), col(SignalEntity.value), col(SignalEntity.created_at)

    def carrying(*columns: Any) -> Select[Any]:
        return select(*columns).select_from(SignalEntity).join(
            SignalInstance, col(SignalInstance.id) == col(SignalEntity.instance_id)).join(Case, open_case)

    if session.get_bind().dialect.name == "postgresql":  # arrays keep one statement text, prepared once
        wanted = func.unnest(bindparam("types", type_=ARRAY(String)), bindparam("values", type_=ARRAY(String))
                             ).table_valued("entity_type", "value").render_derived(name="wanted")
        latest = carrying(instance, case).where(
            entity_type == wanted.c.entity_type, value == wanted.c.value, created_at >= since,
            col(SignalInstance.id) != all_(bindparam("batch", type_=ARRAY(String))),
        ).order_by(created_at.desc(), instance.desc()).limit(1).lateral()
        return (await session.execute(
            select(wanted.c.entity_type, wanted.c.value, latest.c.received_at, latest.c.case_id).join(latest, true()),
            {"types": [t for t, _ in keys], "values": [v for _, v in keys], "batch": batch_ids})).all()
    return (await session.execute(
        carrying(entity_type, value, instance, case).where(
            tuple_(entity_type, value).in_(bindparam("keys", expanding=True)), created_at >= since,
            col(SignalInstance.id).not_in(batch_ids)),
        {"keys": keys})).all()


def _override(instance: QueuedSignal, key: str) -> str | None:
    value = (instance.overrides or {}).get(key)
    return value.get("name") if isinstance(value, dict) else value


async def _follow_cases(session: AsyncSession, config: WarroomConfig, instances: list[QueuedSignal],
                        outcomes: dict[str, Outcome], found: dict[str, set[Entity]]) -> None:
    """What follows from an instance's case: a new case's workflow run, the case's entity tags."""
    entity_tags = any(t.entity_types for t in config.tags.types)
    for instance in instances:
        outcome = outcomes[instance.id]
        if outcome.case_id is None:
            continue
        definition = config.signals.definition(instance.definition)
        if outcome.new_case and definition is not None and definition.workflow:
            await store_signal_run(session, config, definition.workflow, outcome.case_id, sorted(found[instance.id]))
        if entity_tags:
            await tag_case_entities(session, config, outcome.case_id, found[instance.id])


def _case_for(config: WarroomConfig, definition: SignalDefinitionConfig, instance: QueuedSignal) -> SignalCase:
    """The case an instance of `definition` opens (its payload's title, the overrides it was sent with)."""
    given = instance.raw.get("title")
    title = given.strip() if isinstance(given, str) and given.strip() else definition.name
    ctype = config.cases.type(_override(instance, "case_type") or definition.case_type)
    return SignalCase(
        title=title, description=definition.description, case_type=ctype.name,
        priority=_override(instance, "case_priority") or definition.case_priority, signal_definition=definition.name,
        conversation_target=_override(instance, "conversation_target") or definition.conversation_target
        or ctype.conversation_target, idempotency_key=f"signal:{instance.id}", instance_id=instance.id)


def _opened(outcome: Outcome, opened: list[tuple[int, bool]]) -> Outcome:
    """`outcome` with the real id of a case opened after the loop (and whether it was new after all)."""
    if outcome.case_id is None or outcome.case_id > 0:
        return outcome
    case_id, created = opened[-outcome.case_id - 1]
    return replace(outcome, case_id=case_id, new_case=outcome.new_case and created)


async def _open_closed_case(session: AsyncSession, config: WarroomConfig, wanted: SignalCase) -> Outcome:
    """A case of an `auto_close` type: opened, then closed as information gathered."""
    case, created = await create_case(
        session, config, title=wanted.title, description=wanted.description, case_type=wanted.case_type,
        priority=wanted.priority, signal_definition=wanted.signal_definition,
        conversation_target=wanted.conversation_target, idempotency_key=wanted.idempotency_key)
    if created:
        case.alert_count = 1
        case.resolution_reason, case.resolution = ResolutionReason.INFORMATION_GATHERED, f"Closed automatically ({case.case_type})"
        await set_status(session, case, CaseStatus.CLOSED, None)
        await record_case_event(session, case.id, f"Signal received: {wanted.signal_definition}", source="signal",
                                details={"instance": wanted.instance_id}, dedupe_key=f"signal:{wanted.instance_id}")
    return Outcome(CASE, case.id, new_case=created)


async def _mark_processed(session: AsyncSession, outcomes: dict[str, Outcome], now: datetime) -> None:
    table = table_of(SignalInstance)
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(status=SignalStatus.PROCESSED, processed_at=now, outcome=bindparam("b_outcome"), case_id=bindparam("b_case"),
                    filter_name=bindparam("b_filter"), claimed_by=None, claimed_until=None, last_error=None))
    await session.execute(stmt, [{"b_id": i, "b_outcome": o.outcome, "b_case": o.case_id, "b_filter": o.filter_name}
                                 for i, o in outcomes.items()])
