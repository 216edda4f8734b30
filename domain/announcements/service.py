"""Announcing open incidents in the configured notification channels, edited in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.notifications import NotificationChannelConfig
from domain.config.schema import WarroomConfig
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import ConversationPort, PortError, StepMark
from domain.core.vocabulary import IncidentStatus, Visibility
from domain.incidents.notices import IncidentFacts
from storage.command_models import IncidentAnnouncement
from storage.models import Incident

log = logging.getLogger(__name__)


def matches(channel: NotificationChannelConfig, facts: IncidentFacts) -> bool:
    """Restricted incidents never match; empty filters match everything."""
    if facts.visibility == Visibility.RESTRICTED:
        return False
    return ((not channel.incident_types or facts.incident_type in channel.incident_types)
            and (not channel.priorities or facts.priority in channel.priorities)
            and (not channel.visibility or facts.visibility in channel.visibility))


def _allow_join(config: WarroomConfig, facts: IncidentFacts) -> bool:
    project = config.project(facts.project)
    return project.allow_self_join if project else True


async def refresh_announcements(session: AsyncSession, conv: ConversationPort, incident: Incident,
                                facts: IncidentFacts, config: WarroomConfig, *, recover: bool = False) -> None:
    """Post the announcement where it matches and is missing, edit it where it exists. Commits.

    Existing announcements are edited even when the incident no longer matches, so they never
    show stale facts; a restricted incident is never posted anywhere new.

    `recover` (a resumed set-up, which holds the set-up claim): a claimed announcement without a
    ts was being posted by an attempt that died; look for it (it is posted with a mark) and post
    it only if Slack does not have it.
    """
    notice: Notice = Announcement(facts, _allow_join(config, facts))
    if facts.visibility == Visibility.RESTRICTED:
        # Made restricted after being announced: the public message must stop showing anything.
        notice = PlainNotice(f"{facts.name} is no longer public.")
    existing = {
        a.channel_id: a
        for a in (await session.execute(
            select(IncidentAnnouncement).where(col(IncidentAnnouncement.incident_id) == incident.id))).scalars()
    }
    await session.commit()  # never hold a transaction across the Slack calls below
    for channel in config.notification_channels:
        row = existing.get(channel.channel)
        wanted = matches(channel, facts) and facts.status != IncidentStatus.CLOSED and isinstance(notice, Announcement)
        try:
            if row is not None and not row.ts and recover:
                await _recover(session, conv, incident, row, notice, wanted)
            elif row is not None and row.ts:
                await conv.update(row.channel_id, row.ts, notice)
            elif row is None and wanted:
                await _post_once(session, conv, incident, channel.channel, notice)
        except PortError as exc:  # one unreachable channel must not stop the others
            log.warning("announcement of %s in %s failed: %s", incident.name, channel.name, exc)


def _mark(incident: Incident) -> StepMark:
    return StepMark(incident.name, "announcement")


async def _post_once(session: AsyncSession, conv: ConversationPort, incident: Incident, channel_id: str,
                     notice: Notice) -> None:
    # Claim the (incident, channel) row first so two concurrent refreshes never post twice.
    row = IncidentAnnouncement(incident_id=incident.id, channel_id=channel_id)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return
    await session.commit()
    ref = await conv.post(channel_id, notice, mark=_mark(incident))
    row.ts = ref.ts
    await session.commit()


async def _recover(session: AsyncSession, conv: ConversationPort, incident: Incident, row: IncidentAnnouncement,
                   notice: Notice, wanted: bool) -> None:
    """Finish the claimed announcement of an attempt that died: find it and edit it, else post it."""
    try:
        found = await conv.find_marked(row.channel_id, _mark(incident))
    except PortError as exc:  # e.g. not a member (chat:write.public posts without joining): cannot look
        log.warning("cannot look for the announcement of %s in %s (%s): posting it", incident.name, row.channel_id, exc)
        found = None
    if found is not None:
        await conv.update(row.channel_id, found.ts, notice)
    elif wanted:
        found = await conv.post(row.channel_id, notice, mark=_mark(incident))
    else:
        return
    row.ts = found.ts
    await session.commit()


@dataclass(frozen=True)
class Announcement(Notice):
    """Announcement in a notification channel, edited in place on every change."""

    facts: IncidentFacts
    allow_join: bool
