"""Update."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace

from sqlalchemy import update
from sqlmodel import col

from domain.announcements.service import refresh_announcements
from domain.core.ai import THINKING
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.ports import MessageRef
from domain.core.vocabulary import IncidentStatus
from domain.feedback import request_feedback
from domain.incidents.notices import IncidentChanged
from domain.incidents.service import incident_facts, incident_topic
from domain.incidents.update import UpdateIncidentForm, UpdateResult, apply_update, check_visibility, update_errors
from domain.response.assistant import add_ai_summary, ai_config_for
from domain.response.documents import on_incident_changed
from domain.response.engagement import run_engagement
from domain.response.roles import page_commander_if_needed
from domain.response.stakeholders import email_status_change
from domain.response.summary import closing_summary, incident_summary
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
        reopened = result.old_status == IncidentStatus.CLOSED and incident.status != IncidentStatus.CLOSED
        ts = incident.summary_message_ts  # the pinned summary reads as the incident is now (status, tags...)
        pinned = (ts, await incident_summary(session, incident, config)) if ts else None
        ai_closing = closing and ai_config_for(deps, facts.project, "close_summary") is not None
        closed = await closing_summary(session, incident, config) if closing else None
        await session.commit()  # no transaction held over the Slack calls below
        if reopened:
            await conv.unarchive(channel)
        effects: list[Awaitable[object]] = [
            conv.post(channel, IncidentChanged(incident.name, result.actor, result.changes)),
            conv.set_topic(channel, topic),
            refresh_announcements(session, conv, incident, facts, config),
        ]
        if pinned is not None:
            effects.append(conv.update(channel, *pinned))
        if closed is not None and ai_closing:
            closed = replace(closed, ai_note=THINKING)
        if closed is not None:
            effects.append(conv.post(channel, closed))
        posted = await gather_all(*effects)
        if closed is not None and isinstance(posted[-1], MessageRef):  # the cost job edits the final figure into it
            await session.execute(update(Incident).where(col(Incident.id) == incident.id)
                                  .values(closing_message_ts=posted[-1].ts).execution_options(synchronize_session=False))
        await session.commit()
    if closing and config.archive_on_close and not ai_closing:
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
    await on_incident_changed(deps, result.incident_id, labels)
    if "Status" in labels:  # last: a slow mail server delays nothing else
        await email_status_change(deps, result.incident_id, result.old_status)
    if ai_closing:  # last: the AI may take its whole timeout; the channel is archived once its summary is in
        await add_ai_summary(deps, result.incident_id, channel, posted[-1])
        if config.archive_on_close:
            await conv.archive(channel)
