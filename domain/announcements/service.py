"""Announcing open incidents in the configured notification channels, edited in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from domain.config.notifications import NotificationChannelConfig
from domain.config.schema import WarroomConfig
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import ConversationPort, PortError, StepMark
from domain.core.vocabulary import IncidentStatus, Visibility
from domain.incidents.notices import IncidentFacts
from domain.incidents.service import incident_facts
from storage.command_models import IncidentAnnouncement
from storage.models import Incident
from storage.types import utcnow

log = logging.getLogger(__name__)
ANNOUNCE_LEASE = timedelta(minutes=2)  # a post attempt silent this long died
RETRY_FIRST, RETRY_MAX = timedelta(seconds=30), timedelta(minutes=30)


def _listed(name: str, names: list[str]) -> bool:
    """Empty matches everything; names are compared ignoring case, as engagement rules and `config validate` do."""
    return not names or name.casefold() in {n.casefold() for n in names}


def matches(channel: NotificationChannelConfig, facts: IncidentFacts) -> bool:
    """Restricted incidents never match; empty filters match everything."""
    if facts.visibility == Visibility.RESTRICTED:
        return False
    return (_listed(facts.incident_type, channel.incident_types) and _listed(facts.priority, channel.priorities)
            and (not channel.visibility or facts.visibility in channel.visibility))


def _allow_join(config: WarroomConfig, facts: IncidentFacts) -> bool:
    project = config.project(facts.project)
    return project.allow_self_join if project else True


async def refresh_announcements(session: AsyncSession, conv: ConversationPort, incident: Incident,
                                facts: IncidentFacts, config: WarroomConfig, *, recover: bool = False) -> None:
    """Post the announcement where it matches and is missing, edit it where it exists. Commits.

    Existing announcements are edited even when the incident no longer matches, so they never
    show stale facts; a restricted incident is never posted anywhere new.

    An announcement claimed but without a ts (its post failed, or the attempt died) is finished
    here when due (`_due`): looked for by its mark, then posted only if Slack does not have it.
    `recover` (a resumed set-up, which holds the set-up claim): finish it now, due or not.
    """
    notice = _notice(facts, config)
    existing = {
        a.channel_id: a
        for a in (await session.execute(
            select(IncidentAnnouncement).where(col(IncidentAnnouncement.incident_id) == incident.id))).scalars()
    }
    await session.commit()  # never hold a transaction across the Slack calls below
    now = utcnow()
    for channel in config.notification_channels:
        row = existing.get(channel.channel)
        wanted = _wanted(channel, facts, notice)
        try:
            posted = None
            if row is not None and not row.ts:
                if (recover or _due(row, now, backoff=False)) and await _claim(session, row):
                    posted = await _recover(session, conv, incident, row, notice, wanted)
            elif row is not None and row.ts:
                await conv.update(row.channel_id, row.ts, notice)
            elif row is None and wanted:
                posted = await _post_once(session, conv, incident, channel.channel, notice)
            if posted:
                await _catch_up(session, conv, incident.id, channel.channel, posted, notice, config)
        except PortError as exc:  # one unreachable channel must not stop the others
            log.warning("announcement of %s in %s failed: %s", incident.name, channel.name, exc)


def _notice(facts: IncidentFacts, config: WarroomConfig) -> Notice:
    if facts.visibility == Visibility.RESTRICTED:
        # Made restricted after being announced: the public message must stop showing anything.
        return PlainNotice(f"{facts.name} is no longer public.")
    return Announcement(facts, _allow_join(config, facts))


def _wanted(channel: NotificationChannelConfig | None, facts: IncidentFacts, notice: Notice) -> bool:
    return (channel is not None and matches(channel, facts) and facts.status != IncidentStatus.CLOSED
            and isinstance(notice, Announcement))


def _mark(incident: Incident) -> StepMark:
    return StepMark(incident.name, "announcement")


def _due(row: IncidentAnnouncement, now: datetime, *, backoff: bool) -> bool:
    """Whether an announcement without a ts may be tried again now.

    A post in flight (no error recorded) is left alone for ANNOUNCE_LEASE: only a dead attempt stays
    silent that long. A failed post is due at once on an incident refresh; for the resume job
    (`backoff`), after RETRY_FIRST doubling with each attempt up to RETRY_MAX (the first retry at once).
    """
    if row.ts:
        return False
    if row.claimed_at is None:
        return True
    if row.error is None:
        return row.claimed_at < now - ANNOUNCE_LEASE
    if not backoff or row.attempts <= 1:
        return True
    return row.claimed_at < now - min(RETRY_FIRST * 2 ** (row.attempts - 2), RETRY_MAX)


async def _claim(session: AsyncSession, row: IncidentAnnouncement) -> bool:
    """Take the next post attempt of `row` (compare-and-swap on `attempts`); commits."""
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(IncidentAnnouncement)
        .where(col(IncidentAnnouncement.id) == row.id, col(IncidentAnnouncement.attempts) == row.attempts,
               col(IncidentAnnouncement.ts).is_(None))
        .values(attempts=row.attempts + 1, claimed_at=now, error=None)
        .execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return False
    row.attempts, row.claimed_at, row.error = row.attempts + 1, now, None
    return True


async def _failed(session: AsyncSession, row: IncidentAnnouncement, exc: PortError) -> None:
    """Record a failed post on its row: the resume job tries it again."""
    await session.rollback()
    await session.execute(update(IncidentAnnouncement).where(col(IncidentAnnouncement.id) == row.id)
                          .values(error=str(exc)[:2000]).execution_options(synchronize_session=False))
    await session.commit()
    row.error = str(exc)[:2000]


async def _catch_up(session: AsyncSession, conv: ConversationPort, incident_id: int, channel_id: str, ts: str,
                    posted: Notice, config: WarroomConfig) -> None:
    """A refresh that ran while this post was in flight found no ts and left the message alone: once the ts is
    stored, edit the message to what it should read now (e.g. the incident was made Restricted meanwhile)."""
    incident = await session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        return
    notice = _notice(await incident_facts(session, incident), config)
    await session.commit()
    if notice != posted:
        await conv.update(channel_id, ts, notice)


async def _post_once(session: AsyncSession, conv: ConversationPort, incident: Incident, channel_id: str,
                     notice: Notice) -> str | None:
    """Post the announcement unless another refresh claimed it first; the ts posted (None: not posted)."""
    # Claim the (incident, channel) row first so two concurrent refreshes never post twice.
    row = IncidentAnnouncement(incident_id=incident.id, channel_id=channel_id, attempts=1, claimed_at=utcnow())
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    await session.commit()
    try:
        ref = await conv.post(channel_id, notice, mark=_mark(incident))
    except PortError as exc:
        await _failed(session, row, exc)
        raise
    row.ts = ref.ts
    await session.commit()
    return ref.ts


async def _recover(session: AsyncSession, conv: ConversationPort, incident: Incident, row: IncidentAnnouncement,
                   notice: Notice, wanted: bool) -> str | None:
    """Finish a claimed announcement whose post failed or died: find it and edit it, else post it; the ts
    stored (None: forgotten).

    One no longer wanted (the incident closed, the channel dropped) and not found is forgotten.
    """
    try:
        try:
            found = await conv.find_marked(row.channel_id, _mark(incident))
        except PortError as exc:  # e.g. not a member (chat:write.public posts without joining): cannot look
            log.warning("cannot look for the announcement of %s in %s (%s): posting it", incident.name,
                        row.channel_id, exc)
            found = None
        if found is not None:
            await conv.update(row.channel_id, found.ts, notice)
        elif wanted:
            found = await conv.post(row.channel_id, notice, mark=_mark(incident))
    except PortError as exc:
        await _failed(session, row, exc)
        raise
    if found is None:
        await session.execute(delete(IncidentAnnouncement).where(col(IncidentAnnouncement.id) == row.id))
        await session.commit()
        return None
    await session.execute(update(IncidentAnnouncement).where(col(IncidentAnnouncement.id) == row.id)
                          .values(ts=found.ts, error=None).execution_options(synchronize_session=False))
    await session.commit()
    row.ts = found.ts
    return found.ts


async def retry_unposted_announcements(sessions: async_sessionmaker[AsyncSession], conv: ConversationPort,
                                       config: WarroomConfig) -> int:
    """For the resume job: post every announcement whose post failed or died, with backoff, until Slack
    has it (never skipped for good). Returns how many were tried."""
    now = utcnow()
    async with sessions() as session:
        rows = [r for r in (await session.execute(
            select(IncidentAnnouncement).where(col(IncidentAnnouncement.ts).is_(None)))).scalars()
            if _due(r, now, backoff=True)]
        await session.commit()
    channels = {c.channel: c for c in config.notification_channels}
    tried = 0
    for row in rows:
        async with sessions() as session:
            incident = await session.get(Incident, row.incident_id)
            if incident is None or not await _claim(session, row):
                continue
            facts = await incident_facts(session, incident)
            await session.commit()
            notice = _notice(facts, config)
            tried += 1
            try:
                await _recover(session, conv, incident, row, notice, _wanted(channels.get(row.channel_id), facts, notice))
            except PortError as exc:
                log.warning("announcement of %s in %s failed again (attempt %s): %s", incident.name, row.channel_id,
                            row.attempts, exc)
    return tried


@dataclass(frozen=True)
class Announcement(Notice):
    """Announcement in a notification channel, edited in place on every change."""

    facts: IncidentFacts
    allow_join: bool
