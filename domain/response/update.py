"""Update."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.announcements.service import refresh_announcements
from domain.cases.cards import show_incident_cases
from domain.config.schema import WarroomConfig
from domain.core.aio import gather_all
from domain.core.ports import Ports
from domain.core.vocabulary import IncidentStatus
from domain.feedback import request_feedback
from domain.incidents.notices import ClosingSummary, IncidentChanged
from domain.incidents.service import duration, incident_facts, incident_topic
from domain.incidents.update import UpdateResult
from domain.response.engagement import run_engagement
from domain.response.roles import page_commander_if_needed
from storage.models import Incident

ENGAGEMENT_FIELDS = {"Title", "Description", "Type", "Priority", "Tags"}


async def publish_update(sessions: async_sessionmaker[AsyncSession], result: UpdateResult, ports: Ports,
                         config: WarroomConfig) -> None:
    """Every channel effect of an update: what-changed message, topic, announcements, close/reopen."""
    if not result.changes:
        return
    conv = ports.conversation
    async with sessions() as session:
        incident = await session.get(Incident, result.incident_id)
        facts = await incident_facts(session, incident)
        topic = await incident_topic(session, incident, facts.priority)
        channel = incident.channel_id
        if channel is None:
            return
        closing = incident.status == IncidentStatus.CLOSED and result.old_status != IncidentStatus.CLOSED
        if result.old_status == IncidentStatus.CLOSED and incident.status != IncidentStatus.CLOSED:
            await conv.unarchive(channel)
        effects = [
            conv.post(channel, IncidentChanged(incident.name, result.actor, result.changes)),
            conv.set_topic(channel, topic),
            refresh_announcements(session, conv, incident, facts, config),
        ]
        if closing:
            effects.append(conv.post(channel, ClosingSummary(facts, incident.resolution, duration(incident))))
        await gather_all(*effects)
        await session.commit()
        if closing and config.archive_on_close:
            await conv.archive(channel)
    if closing:
        await request_feedback(sessions, ports, result.incident_id)
    labels = {label for label, _, _ in result.changes}
    if "Visibility" in labels:  # cards of cases escalated to it name it only while it is Open
        await show_incident_cases(sessions, result.incident_id, ports, config)
    if labels & ENGAGEMENT_FIELDS:
        await run_engagement(sessions, result.incident_id, ports, config)
    if "Priority" in labels:
        await page_commander_if_needed(sessions, result.incident_id, ports)
