"""Who is in an incident: adding people (DB first, then the Slack invite), welcoming them,
and keeping participants in step with channel joins and leaves."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import ensure_contact, update_contact
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import PortError
from domain.core.vocabulary import IncidentStatus, Role, TaskStatus, Visibility
from domain.documents import DOCUMENT, mark_needs_sync
from domain.incidents.detail import incident_detail
from domain.incidents.notices import IncidentFacts
from domain.incidents.queries import incident_for_channel
from domain.incidents.service import incident_facts
from domain.participants import add_participant, set_profile_fields
from domain.response.documents import bridge_of, ensure_document, share_with_channel_participants
from domain.response.notices import CommanderReinvited, JoinedFromAnnouncement, ReinvitedForOpenTasks, Welcome
from domain.tasks import incident_tasks
from domain.timeline import record_event
from storage.models import Incident, IndividualContact, Participant, ParticipantRole, Project
from storage.rows import must_get
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engage:
    user_id: str
    roles: tuple[str, ...]
    reason: str


async def _participant(session: AsyncSession, incident_id: int, contact_id: int) -> Participant | None:
    return (await session.execute(select(Participant).where(
        col(Participant.incident_id) == incident_id, col(Participant.individual_id) == contact_id))).scalar_one_or_none()


async def record_participants(session: AsyncSession, incident: Incident, people: list[Engage],
                              added_by: str | None) -> list[str]:
    """Add or reactivate participants before they are invited; returns who is new. Does not commit.

    Writing the row first is how a later `member_joined_channel` caused by our own invite is
    recognised: the joiner is already an active participant.
    """
    actor = await ensure_contact(session, added_by) if added_by else None
    new: list[str] = []
    for person in people:
        contact = await ensure_contact(session, person.user_id)
        existing = await _participant(session, incident.id, contact.id)
        if existing is None or existing.inactive_at is not None:
            new.append(person.user_id)
            if existing is not None:
                existing.inactive_at, existing.added_reason = None, person.reason
        await add_participant(session, incident.id, contact, list(person.roles), reason=person.reason, added_by=actor)
    return new


async def welcome(deps: Deps, facts: IncidentFacts, user_ids: list[str]) -> None:
    """Ephemeral welcome in the channel and a DM to each of `user_ids`."""
    if not user_ids or facts.channel_id is None:
        return
    bridge = await bridge_of(deps, facts.channel_id)
    notice = Welcome(facts, deps.config.commands.model_dump(), conference_url=bridge)
    conv = deps.ports.conversation
    await gather_all(*(c for uid in user_ids
                       for c in (conv.post_ephemeral(facts.channel_id, uid, notice), conv.send_direct(uid, notice))),
                     share_with_channel_participants(deps, facts.channel_id))


async def engage(deps: Deps, incident_id: int, people: list[Engage], *, added_by: str | None = None) -> list[str]:
    """Make `people` participants, invite the new ones and welcome them; nobody is engaged twice."""
    if not people:
        return []
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        new = await record_participants(session, incident, people, added_by)
        facts = await incident_facts(session, incident)
        await session.commit()
    if new and facts.channel_id:
        await deps.ports.conversation.invite(facts.channel_id, new)
        await welcome(deps, facts, new)
    return new


async def member_joined(deps: Deps, channel_id: str, user_id: str, *, at: datetime | None = None) -> bool | None:
    """Someone joined an incident channel (at `at`, Slack's time of the event): make them an observer unless
    already in; welcome them. A join older than their last leave is one Slack delivered late and changes nothing.
    Returns whether they were added; None when the channel is no incident's."""
    async with deps.sessions() as session:
        # Most joins follow our own invites (the participant is recorded first): one read tells.
        known = (await session.execute(
            select(col(Incident.status), col(Participant.id), col(Participant.inactive_at))
            .select_from(Incident)
            .outerjoin(IndividualContact, col(IndividualContact.slack_user_id) == user_id)
            .outerjoin(Participant, and_(col(Participant.incident_id) == col(Incident.id),
                                         col(Participant.individual_id) == col(IndividualContact.id)))
            .where(col(Incident.channel_id) == channel_id))).first()
        if known is None:
            return None
        status, participant_id, inactive_at = known
        if status == IncidentStatus.CLOSED or (participant_id is not None and inactive_at is None):
            return False  # closed, or in already: our own invite (recorded first) or a duplicate event
        incident = await incident_for_channel(session, channel_id)
        if incident is None or incident.status == IncidentStatus.CLOSED:
            return False
        contact = await ensure_contact(session, user_id)
        existing = await _participant(session, incident.id, contact.id)
        if existing is not None and existing.inactive_at is None:
            return False  # our own invite (recorded first) or a duplicate event
        if existing is not None and existing.inactive_at is not None and at is not None and at <= existing.inactive_at:
            log.info("ignored a join of %s to %s that Slack delivered after their later leave", user_id, incident.name)
            return False
        holds_role = existing is not None and await _active_roles(session, existing.id)
        if existing is not None:
            existing.inactive_at = None
        await add_participant(session, incident.id, contact, [] if holds_role else [Role.OBSERVER], reason="Joined the channel")
        await record_event(session, incident.id, f"{contact.name} joined the incident channel", author_id=contact.id)
        facts = await incident_facts(session, incident)
        await session.commit()
    try:
        profile = await deps.ports.conversation.get_user(user_id)
        async with deps.sessions() as session:
            await update_contact(session, profile)
            if deps.config.profile_fields.wanted:
                await set_profile_fields(session, incident.id, [profile])
            await session.commit()
    except PortError:
        log.warning("no profile for %s", user_id)
    try:
        await welcome(deps, facts, [user_id])
    except PortError as exc:  # e.g. they left again before the welcome went out
        log.warning("could not welcome %s: %s", user_id, exc.code)
    return True


async def _active_roles(session: AsyncSession, participant_id: int) -> list[str]:
    return list((await session.execute(select(col(ParticipantRole.role)).where(
        col(ParticipantRole.participant_id) == participant_id, col(ParticipantRole.renounced_at).is_(None)))).scalars())


async def member_left(deps: Deps, channel_id: str, user_id: str, *, at: datetime | None = None) -> str:
    """Someone left an incident channel (at `at`, Slack's time of the event). The commander is invited back
    with an explanation; anyone else becomes inactive with every role renounced. Returns what was done."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await incident_for_channel(session, channel_id)
        if incident is None or incident.status == IncidentStatus.CLOSED:
            return "ignored"
        contact = (await session.execute(select(IndividualContact).where(
            col(IndividualContact.slack_user_id) == user_id))).scalar_one_or_none()
        if contact is None:
            return "ignored"
        existing = await _participant(session, incident.id, contact.id)
        if existing is None or existing.inactive_at is not None:
            return "ignored"
        if incident.commander_id == contact.id:
            await record_event(session, incident.id, f"{contact.name} left but is the commander: invited back",
                               author_id=contact.id, details={"reinvited": True})
            await session.commit()
            await gather_all(conv.invite(channel_id, [user_id]),
                             conv.send_direct(user_id, CommanderReinvited(incident.name, channel_id)))
            return "reinvited"
        open_tasks = [t.description for t in await incident_tasks(session, incident)
                      if t.status == TaskStatus.OPEN and user_id in t.assignees]
        if open_tasks:
            await record_event(session, incident.id, f"{contact.name} left with open tasks: invited back",
                               author_id=contact.id, details={"reinvited": True, "open_tasks": open_tasks})
            await session.commit()
            notice = ReinvitedForOpenTasks(incident.name, channel_id, open_tasks)
            await gather_all(conv.invite(channel_id, [user_id]), conv.send_direct(user_id, notice))
            return "reinvited"
        now = utcnow()
        existing.inactive_at = min(at, now) if at else now  # Slack's time: a join delivered late is told by it
        await session.execute(update(ParticipantRole).where(
            col(ParticipantRole.participant_id) == existing.id, col(ParticipantRole.renounced_at).is_(None))
            .values(renounced_at=now).execution_options(synchronize_session=False))
        await record_event(session, incident.id, f"{contact.name} left the incident; roles renounced", author_id=contact.id)
        # A restricted incident's folder is taken from them: marked with the leave itself (one transaction), so
        # the resume job revokes it if this process dies first. An open incident's folder is left shared: anyone
        # may join its channel and get it back, and people leave a noisy channel yet still write the review.
        revoke = incident.visibility == Visibility.RESTRICTED and await mark_needs_sync(session, incident.id, DOCUMENT)
        await session.commit()
    if revoke:
        await ensure_document(deps, incident.id)  # a Google failure is recorded and retried, never raised
    return "left"


async def _incident(session: AsyncSession, name: str) -> Incident | None:
    return (await session.execute(select(Incident).where(col(Incident.name) == name))).scalar_one_or_none()


async def join_from_announcement(deps: Deps, name: str, user_id: str) -> Notice:
    """Join as observer; refused for restricted or closed incidents and where self-join is off."""
    async with deps.sessions() as session:
        incident = await _incident(session, name)
        if incident is None or incident.visibility == Visibility.RESTRICTED:
            return PlainNotice("You cannot join this incident from here; ask its commander.")
        project = await must_get(session, Project, incident.project_id)
    if incident.status == IncidentStatus.CLOSED or incident.channel_id is None:
        return PlainNotice(f"{incident.name} is closed.")
    project_config = deps.config.project(project.name) or deps.config.default_project()
    if not project_config.allow_self_join:
        return PlainNotice(f"Joining {incident.name} yourself is turned off; ask its commander.")
    new = await engage(deps, incident.id, [Engage(user_id, (Role.OBSERVER,), "Joined from the announcement")])
    return JoinedFromAnnouncement(incident.channel_id, already=not new)


async def subscribe_from_announcement(deps: Deps, name: str, user_id: str) -> str:
    """Add the user to the incident's notifications group."""
    async with deps.sessions() as session:
        incident = await _incident(session, name)
        if incident is None or incident.visibility == Visibility.RESTRICTED:
            return "You cannot subscribe to this incident."
        detail = await incident_detail(session, incident.id)
        if user_id in (detail.notify_user_ids or []):
            return f"You are already subscribed to {incident.name}."
        detail.notify_user_ids = [*(detail.notify_user_ids or []), user_id]
        await session.commit()
    return f"You will receive stakeholder updates about {incident.name}."


async def note_message(deps: Deps, channel_id: str, user_id: str) -> bool:
    """Someone posted a top-level message in a channel: in an open incident's channel, count it; an observer
    whose count reaches `engagement.observer_messages` becomes a participant (as in Dispatch). Returns
    whether that happened now."""
    needed = deps.config.engagement.observer_messages
    async with deps.sessions() as session:
        incident = await incident_for_channel(session, channel_id)
        if incident is None or incident.status == IncidentStatus.CLOSED:
            return False
        contact = (await session.execute(select(IndividualContact).where(
            col(IndividualContact.slack_user_id) == user_id))).scalar_one_or_none()
        participant = await _participant(session, incident.id, contact.id) if contact is not None else None
        if participant is None or participant.inactive_at is not None:
            return False
        count = (await session.execute(
            update(Participant).where(col(Participant.id) == participant.id)
            .values(message_count=col(Participant.message_count) + 1).returning(col(Participant.message_count)))).scalar_one()
        promoted = False
        if needed and count == needed and await _active_roles(session, participant.id) == [Role.OBSERVER]:
            now = utcnow()
            await session.execute(update(ParticipantRole).where(
                col(ParticipantRole.participant_id) == participant.id, col(ParticipantRole.role) == Role.OBSERVER,
                col(ParticipantRole.renounced_at).is_(None)).values(renounced_at=now)
                .execution_options(synchronize_session=False))
            session.add(ParticipantRole(participant_id=participant.id, role=Role.PARTICIPANT, assumed_at=now))
            assert contact is not None  # (a participant has a contact)
            await record_event(session, incident.id, f"{contact.name} became a participant ({count} messages in the channel)",
                               author_id=contact.id, dedupe_key=f"incident:{incident.id}:promoted:{contact.id}")
            promoted = True
        await session.commit()
    return promoted
