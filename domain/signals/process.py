"""Processing one stored signal instance: extract entities, apply snoozes, deduplicate, or open a case.

Runs inside the worker's transaction for that instance; everything it writes commits (or rolls
back) together with the instance's status, so an instance is never half processed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.case_config import SignalDefinitionConfig
from domain.cases.service import CLOSED, create_case, record_case_event, set_status
from domain.config import WarroomConfig
from domain.signals.extract import extract_entities
from domain.signals.snooze import matches
from storage.case_models import Case
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance
from storage.upsert import upsert_insert

CASE, DEDUPLICATED, SNOOZED, STORED, UNKNOWN = "case", "deduplicated", "snoozed", "stored", "unknown_definition"


@dataclass(frozen=True)
class Outcome:
    outcome: str
    case_id: int | None = None
    new_case: bool = False
    filter_name: str | None = None


async def process_instance(session: AsyncSession, instance: SignalInstance, config: WarroomConfig,
                           now: datetime) -> Outcome:
    """Decide what `instance` becomes and write it (entities, case or attachment); does not commit."""
    definition = config.signals.definition(instance.definition)
    if definition is None:  # removed from the config since it was accepted: keep it, make nothing
        return Outcome(UNKNOWN)
    entities = extract_entities(instance.raw, config.signals.entity_types_for(definition))
    if entities:
        await session.execute(
            upsert_insert(session, SignalEntity).values([
                dict(instance_id=instance.id, entity_type=t, value=v, definition=definition.name, created_at=now)
                for t, v in entities])
            .on_conflict_do_nothing(index_elements=["instance_id", "entity_type", "value"]))
    found = set(entities)
    snooze = await _snoozed_by(session, config, definition, found, now)
    if snooze is not None:
        return Outcome(SNOOZED, filter_name=snooze)
    if not definition.create_case:
        return Outcome(STORED)
    await _serialize_definition(session, definition.name)
    case_id, via = await _duplicate_of(session, config, definition, instance, found, now)
    if case_id is not None:
        await session.execute(update(Case).where(Case.id == case_id)
                              .values(alert_count=Case.alert_count + 1, updated_at=now)
                              .execution_options(synchronize_session=False))
        return Outcome(DEDUPLICATED, case_id, filter_name=via)
    return await _open_case(session, config, definition, instance)


async def _serialize_definition(session: AsyncSession, name: str) -> None:
    """On Postgres, instances of one definition are decided one at a time (two workers must not
    both open a case for the same alert burst). SQLite already has a single writer."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})


async def _snoozed_by(session: AsyncSession, config: WarroomConfig, definition: SignalDefinitionConfig,
                      found: set[tuple[str, str]], now: datetime) -> str | None:
    for f in config.signals.filters:
        if (f.action == "snooze" and (not f.definitions or definition.name in f.definitions)
                and (f.expires_at is None or f.expires_at > now) and matches(f.entities, found)):
            return f.name
    if not found:
        return None
    rows = (await session.execute(select(SignalFilter.name, SignalFilter.entities).where(
        SignalFilter.action == "snooze",
        or_(SignalFilter.definition.is_(None), SignalFilter.definition == definition.name),
        or_(SignalFilter.expires_at.is_(None), SignalFilter.expires_at > now)))).all()
    return next((name for name, wanted in rows if matches(wanted or [], found)), None)


async def _duplicate_of(session: AsyncSession, config: WarroomConfig, definition: SignalDefinitionConfig,
                        instance: SignalInstance, found: set[tuple[str, str]], now: datetime) -> tuple[int | None, str | None]:
    """The open case this instance belongs to, and the dedup rule that said so."""
    open_case = and_(SignalInstance.case_id == Case.id, Case.status != CLOSED)
    for f in config.signals.filters:
        if f.action != "deduplicate" or (f.definitions and definition.name not in f.definitions):
            continue
        keys = [(t, v) for t, v in found if t in f.entity_types]
        if not keys:
            continue
        query = (select(SignalInstance.case_id)
                 .join(SignalEntity, SignalEntity.instance_id == SignalInstance.id)
                 .join(Case, open_case)
                 .where(tuple_(SignalEntity.entity_type, SignalEntity.value).in_(keys),
                        SignalEntity.created_at >= now - timedelta(seconds=f.window_seconds),
                        SignalInstance.id != instance.id)
                 .order_by(SignalInstance.received_at.desc()).limit(1))
        case_id = (await session.execute(query)).scalar()
        if case_id is not None:
            return case_id, f.name
    if definition.dedup_window_seconds:
        query = (select(SignalInstance.case_id).join(Case, open_case)
                 .where(SignalInstance.definition == definition.name,
                        SignalInstance.received_at >= instance.received_at - timedelta(seconds=definition.dedup_window_seconds),
                        SignalInstance.id != instance.id)
                 .order_by(SignalInstance.received_at.desc()).limit(1))
        case_id = (await session.execute(query)).scalar()
        if case_id is not None:
            return case_id, None
    return None, None


def _override(instance: SignalInstance, key: str) -> str | None:
    value = (instance.overrides or {}).get(key)
    return value.get("name") if isinstance(value, dict) else value


async def _open_case(session: AsyncSession, config: WarroomConfig, definition: SignalDefinitionConfig,
                     instance: SignalInstance) -> Outcome:
    raw = instance.raw
    title = raw.get("title") if isinstance(raw.get("title"), str) and raw.get("title").strip() else definition.name
    ctype = config.cases.type(_override(instance, "case_type") or definition.case_type)
    target = _override(instance, "conversation_target") or definition.conversation_target or ctype.conversation_target
    case, created = await create_case(
        session, config, title=title.strip(), description=definition.description, case_type=ctype.name,
        priority=_override(instance, "case_priority") or definition.case_priority,
        signal_definition=definition.name, conversation_target=target, idempotency_key=f"signal:{instance.id}",
    )
    if created:
        case.alert_count = 1
        if ctype.auto_close:
            case.resolution_reason, case.resolution = "Information Gathered", f"Closed automatically ({ctype.name})"
            await set_status(session, case, CLOSED, None)
        await record_case_event(session, case.id, f"Signal received: {definition.name}", source="signal",
                                details={"instance": instance.id}, dedupe_key=f"signal:{instance.id}")
    return Outcome(CASE, case.id, new_case=created)
