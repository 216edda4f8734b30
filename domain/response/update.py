"""Update."""

from __future__ import annotations

from collections.abc import Awaitable

from domain.announcements.service import refresh_announcements
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.vocabulary import IncidentStatus
from domain.feedback import request_feedback
from domain.incidents.notices import ClosingSummary, IncidentChanged
from domain.incidents.service import duration, incident_facts, incident_topic
from domain.incidents.update import UpdateIncidentForm, UpdateResult, apply_update, check_visibility, update_errors
from domain.response.engagement import run_engagement
from domain.response.roles import page_commander_if_needed
from domain.response.tickets import sync_ticket
from storage.models import Incident
from storage.rows import must_get

ENGAGEMENT_FIELDS = {"Title", "Description", "Type", "Priority", "Tags"}
TICKET_FIELDS = {"Title", "Description", "Type", "Priority", "Severity", "Status", "Visibility"}


async def update_incident(deps: Deps, incident_id: int, form: UpdateIncidentForm, *, actor: str) -> UpdateResult:
    """Store the update-incident form, then show it everywhere (`publish_update`)."""
    async with deps.sessions() as session:
        result = await apply_update(session, incident_id, form, actor, deps.config)
    await publish_update(deps, result)
    return result


async def update_refusals(deps: Deps, incident_id: int, form: UpdateIncidentForm, user_id: str) -> dict[str, str]:
    """Why a submitted update cannot be stored (by modal block id), the channel's privacy asked of Slack
    outside any transaction; empty when it can."""
    async with deps.sessions() as session:
        errors = await update_errors(session, incident_id, form, user_id, deps.config)
        incident = await session.get(Incident, incident_id)
        await session.commit()
    if errors or incident is None:
        return errors
    return await check_visibility(incident, form, deps.ports.conversation)


async def publish_update(deps: Deps, result: UpdateResult) -> None:
    """Every channel effect of an update: what-changed message, topic, announcements, close/reopen."""
    if not result.changes:
        return
    config, conv = deps.config, deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, result.incident_id)
        facts = await incident_facts(session, incident)
        topic = await incident_topic(session, incident, facts.priority)
        channel = incident.channel_id
        if channel is None:
            return
        closing = incident.status == IncidentStatus.CLOSED and result.old_status != IncidentStatus.CLOSED
        if result.old_status == IncidentStatus.CLOSED and incident.status != IncidentStatus.CLOSED:
            await conv.unarchive(channel)
        effects: list[Awaitable[object]] = [
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
        await request_feedback(deps, result.incident_id)
    labels = frozenset(label for label, _, _ in result.changes)
    for watcher in deps.incident_watchers:
        await watcher(deps, result.incident_id, labels)
    if labels & ENGAGEMENT_FIELDS:
        await run_engagement(deps, result.incident_id)
    if "Priority" in labels:
        await page_commander_if_needed(deps, result.incident_id)
    if labels & TICKET_FIELDS:
        await sync_ticket(deps, result.incident_id)
