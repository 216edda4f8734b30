"""Command-center work when an incident channel is set up: engagement, announcements, paging."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.announcements import refresh_announcements
from domain.config import WarroomConfig
from domain.engagement import run_engagement
from domain.ports import Ports
from domain.reporting import incident_facts
from domain.timeline import record_event
from storage.models import Incident, IncidentPriority

log = logging.getLogger(__name__)


async def on_channel_ready(sessions: async_sessionmaker[AsyncSession], incident_id: int, ports: Ports,
                           config: WarroomConfig) -> None:
    """Runs beside the channel set-up calls once the channel exists; each part is idempotent
    (a resumed set-up repeats it safely) and a failure of one is only logged."""
    results = await asyncio.gather(
        run_engagement(sessions, incident_id, ports, config),
        _announce(sessions, incident_id, ports, config),
        page_commander_if_needed(sessions, incident_id, ports),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, Exception):
            log.error("post-set-up step of incident %s failed", incident_id, exc_info=result)


async def close_retroactive(sessions, incident_id: int, ports: Ports, config: WarroomConfig) -> None:
    """An incident reported as already Closed gets its closing summary, then its channel archived."""
    from domain.command_notices import ClosingSummary
    from domain.incident_update import duration

    async with sessions() as session:
        incident = await session.get(Incident, incident_id)
        if incident.status != "Closed":
            return
        facts = await incident_facts(session, incident)
        first = await record_event(session, incident.id, "Closing summary posted",
                                   dedupe_key=f"incident:{incident.id}:closing-summary")
        await session.commit()
    if first:
        await ports.conversation.post(incident.channel_id, ClosingSummary(facts, incident.resolution, duration(incident)))
    if config.archive_on_close:
        await ports.conversation.archive(incident.channel_id)


async def _announce(sessions, incident_id: int, ports: Ports, config: WarroomConfig) -> None:
    if not config.notification_channels:
        return
    async with sessions() as session:
        incident = await session.get(Incident, incident_id)
        await refresh_announcements(session, ports.conversation, incident, await incident_facts(session, incident), config)
        await session.commit()


async def page_commander_if_needed(sessions, incident_id: int, ports: Ports) -> None:
    """Page the commander once per incident and commander when the priority asks for it."""
    async with sessions() as session:
        incident = await session.get(Incident, incident_id)
        priority = await session.get(IncidentPriority, incident.incident_priority_id)
        if not priority.page_commander or incident.status == "Closed" or incident.commander_id is None:
            return
        facts = await incident_facts(session, incident)
        first = await record_event(session, incident.id, f"Commander paged ({priority.name} priority)",
                                   dedupe_key=f"incident:{incident.id}:page:{incident.commander_id}")
        await session.commit()
    if first:
        await ports.oncall.page_person(facts.commander, facts.name, facts.title)
