"""Assigning incident roles; handing off command."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.announcements.service import refresh_announcements
from domain.config.schema import WarroomConfig
from domain.contacts import update_contact
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.vocabulary import IncidentStatus, Role
from domain.incidents.notices import IncidentFacts
from domain.incidents.service import incident_facts, incident_topic
from domain.response.membership import Engage, record_participants, welcome
from domain.response.notices import CommanderGuide, CommanderHandoff, RoleAssigned
from domain.response.paging import page_person
from domain.response.summary import incident_summary
from domain.response.tickets import sync_ticket
from domain.timeline import record_event
from storage.models import Incident, IncidentPriority, IndividualContact, Participant, ParticipantRole
from storage.rows import must_get
from storage.types import utcnow


async def page_commander_if_needed(deps: Deps, incident_id: int, facts: IncidentFacts | None = None) -> None:
    """Page the commander once per incident and commander when the priority asks for it. With `facts` (as
    the set-up just read them), a priority whose config does not page reads nothing."""
    if facts is not None and (facts.commander is None or not _pages_commander(deps.config, facts)):
        return
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        priority = await must_get(session, IncidentPriority, incident.incident_priority_id)
        if not priority.page_commander or incident.status == IncidentStatus.CLOSED or incident.commander_id is None:
            return
        commander = await must_get(session, IndividualContact, incident.commander_id)
        await record_event(session, incident.id, f"Commander paged ({priority.name} priority)",
                           dedupe_key=f"incident:{incident.id}:page:{incident.commander_id}")
        await session.commit()
    await page_person(deps, incident_id, commander.slack_user_id, commander.email,
                      reason=f"the commander, {commander.name or commander.slack_user_id}")


def _pages_commander(config: WarroomConfig, facts: IncidentFacts) -> bool:
    """Whether the configured priority pages the commander; True when the config no longer has it (the
    database, which keeps what an earlier config said, decides)."""
    project = config.project(facts.project)
    priority = next((p for p in project.incident_priorities if p.name == facts.priority), None) if project else None
    return priority is None or priority.page_commander


@dataclass(frozen=True)
class AssignRoleForm:
    incident_id: int
    user_id: str
    role: str


async def assign_role(deps: Deps, form: AssignRoleForm, *, actor: str) -> None:
    """Give `form.user_id` the role; a new commander replaces the previous one, who stays as participant."""
    config, conv = deps.config, deps.ports.conversation
    profile = await conv.get_user(form.user_id)
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, form.incident_id)
        await update_contact(session, profile)
        previous = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
        handoff = form.role == Role.COMMANDER and (previous is None or previous.slack_user_id != form.user_id)
        new = await record_participants(session, incident, [Engage(form.user_id, (form.role,), f"Assigned {form.role}")], actor)
        if handoff:
            if previous is not None:
                await _renounce(session, incident.id, previous.id, Role.COMMANDER)
                await record_participants(session, incident, [Engage(previous.slack_user_id, (Role.PARTICIPANT,), "Former commander")], actor)
            incident.commander_id = (await session.execute(select(col(IndividualContact.id)).where(
                col(IndividualContact.slack_user_id) == form.user_id))).scalar_one()
            await record_event(session, incident.id, f"Incident command handed to {profile.name}",
                               details={"previous": previous.slack_user_id if previous else None, "new": form.user_id})
        await session.commit()
        facts = await incident_facts(session, incident)
        # No channel yet when the incident's set-up has not created it (a managing command may name
        # such an incident from elsewhere): the role is recorded, only the channel effects are left out.
        channel = incident.channel_id
        await session.commit()  # no transaction held over the invite and welcome: sharing the folder writes
        if new and channel is not None:
            await conv.invite(channel, new)
        await welcome(deps, facts, new)
        effects: list[Awaitable[object]] = []
        if handoff:
            if channel is not None:
                topic = await incident_topic(session, incident, facts.priority)
                effects += [
                    conv.set_topic(channel, topic),
                    conv.post(channel, CommanderHandoff(incident.name, previous.slack_user_id if previous else None,
                                                        form.user_id, actor)),
                ]
                if incident.summary_message_ts:  # the pinned summary names the new commander
                    effects.append(conv.update(channel, incident.summary_message_ts,
                                               await incident_summary(session, incident, config)))
            effects += [
                conv.send_direct(form.user_id, CommanderGuide(facts, config.commands.model_dump())),
                refresh_announcements(session, conv, incident, facts, config),
            ]
        elif channel is not None:
            effects.append(conv.post(channel, RoleAssigned(incident.name, form.user_id, form.role, actor)))
        await session.commit()  # the topic and summary were read; no transaction held over the Slack calls
        await gather_all(*effects)
        await session.commit()
    if handoff:
        await page_commander_if_needed(deps, form.incident_id)
        await sync_ticket(deps, form.incident_id)


async def _renounce(session: AsyncSession, incident_id: int, contact_id: int, role: str) -> None:
    ids = select(col(Participant.id)).where(col(Participant.incident_id) == incident_id, col(Participant.individual_id) == contact_id)
    await session.execute(update(ParticipantRole).where(
        col(ParticipantRole.participant_id).in_(ids), col(ParticipantRole.role) == role, col(ParticipantRole.renounced_at).is_(None))
        .values(renounced_at=utcnow()).execution_options(synchronize_session=False))
