"""The App Home tab's content: a person's active and recent incidents with their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.notices import Notice
from domain.core.vocabulary import ONGOING_STATUSES, Role, Visibility
from domain.incidents.notices import IncidentRef, NotAllowed, NotInIncidentChannel
from domain.incidents.tags import incidents_tagged
from storage.cost_models import INCIDENT_SUBJECT, subject_costs
from storage.models import Incident, IndividualContact, Participant, ParticipantRole, Project
from storage.ticket_models import IncidentTicket
from storage.types import utcnow

RECENT = 10


async def incident_costs(session: AsyncSession, incident_ids: list[int], config: WarroomConfig) -> dict[int, str]:
    """The response cost of each incident costed so far, as shown ("$1,234.50"); none with costs off."""
    if not config.costs.enabled:
        return {}
    costs = await subject_costs(session, INCIDENT_SUBJECT, incident_ids)
    return {i: config.costs.money(amount) for i, amount in costs.items()}


async def home_incidents(session: AsyncSession, user_id: str, config: WarroomConfig | None = None,
                         ) -> tuple[list[IncidentRef], list[IncidentRef]]:
    """(active/stable incidents where the user is active (with their tickets), their most recent other incidents) — 2 queries
    (3 with `config`: their response costs)."""
    rows = (await session.execute(
        select(Incident, Participant, col(IncidentTicket.key), col(IncidentTicket.url))
        .join(Participant, col(Participant.incident_id) == col(Incident.id))
        .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .outerjoin(IncidentTicket, col(IncidentTicket.incident_id) == col(Incident.id))
        .where(col(IndividualContact.slack_user_id) == user_id)
        .order_by(col(Incident.id).desc()))).all()
    held: dict[int, list[str]] = {}
    for pid, role in (await session.execute(select(col(ParticipantRole.participant_id), col(ParticipantRole.role)).where(
            col(ParticipantRole.participant_id).in_([p.id for _, p, _, _ in rows]),
            col(ParticipantRole.renounced_at).is_(None)))).all():
        held.setdefault(pid, []).append(role)
    active: list[IncidentRef] = []
    recent: list[IncidentRef] = []
    costs = await incident_costs(session, [row[0].id for row in rows], config) if config else {}
    for incident, p, key, url in rows:
        ref = IncidentRef(incident.name, incident.title, incident.status, incident.channel_id,
                          ", ".join(sorted(held.get(p.id, []))) or Role.PARTICIPANT, response_cost=costs.get(incident.id),
                          ticket_key=key if url else None, ticket_url=url if key else None)
        if incident.status in ONGOING_STATUSES and p.inactive_at is None:
            active.append(ref)
        elif len(recent) < RECENT:
            recent.append(ref)
    return active, recent


MANAGING_ROLES = (Role.COMMANDER, Role.SCRIBE)


RECENTLY_CLOSED = timedelta(hours=24)


async def incident_for_channel(session: AsyncSession, channel_id: str | None) -> Incident | None:
    """The incident whose channel is `channel_id` (None outside incident channels)."""
    if not channel_id:
        return None
    return (await session.execute(select(Incident).where(col(Incident.channel_id) == channel_id))).scalar_one_or_none()


async def incident_named(session: AsyncSession, text: str | None) -> Incident | None:
    """The incident whose name is the first word of `text` (e.g. "INC-12"), any case."""
    word = (text or "").strip().split(" ", 1)[0].upper()
    if not word:
        return None
    return (await session.execute(select(Incident).where(col(Incident.name) == word))).scalar_one_or_none()


async def role_holders(session: AsyncSession, incident_id: int, roles: tuple[str, ...]) -> list[tuple[str, str]]:
    """(Slack user id, role) of everyone currently holding one of `roles`."""
    rows = await session.execute(
        select(col(IndividualContact.slack_user_id), col(ParticipantRole.role))
        .join(Participant, col(Participant.individual_id) == col(IndividualContact.id))
        .join(ParticipantRole, col(ParticipantRole.participant_id) == col(Participant.id))
        .where(col(Participant.incident_id) == incident_id, col(ParticipantRole.role).in_(roles),
               col(ParticipantRole.renounced_at).is_(None))
        .order_by(col(ParticipantRole.id))
    )
    return [(uid, role) for uid, role in rows.all()]


@dataclass(frozen=True)
class Permission:
    allowed: bool
    who_can: list[str]  # Slack user ids of the commander and scribes (admins are named separately)


async def may_manage(session: AsyncSession, incident: Incident, user_id: str, config: WarroomConfig) -> Permission:
    """Only the commander, scribes and configured admins may change the incident."""
    holders = await role_holders(session, incident.id, MANAGING_ROLES)
    commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
    who = list(dict.fromkeys(([commander.slack_user_id] if commander else []) + [uid for uid, _ in holders]))
    return Permission(user_id in who or user_id in config.admins, who)


async def active_incidents_of(session: AsyncSession, user_id: str) -> list[Incident]:
    """Active and Stable incidents in which `user_id` is an active participant."""
    rows = await session.execute(
        select(Incident)
        .join(Participant, col(Participant.incident_id) == col(Incident.id))
        .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .where(col(IndividualContact.slack_user_id) == user_id, col(Participant.inactive_at).is_(None),
               col(Incident.status).in_(ONGOING_STATUSES), col(Incident.channel_id).is_not(None))
        .order_by(col(Incident.id).desc())
    )
    return list(rows.scalars().unique())


async def is_participant(session: AsyncSession, incident_id: int, user_id: str) -> bool:
    row = await session.execute(
        select(col(Participant.id))
        .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .where(col(Participant.incident_id) == incident_id, col(IndividualContact.slack_user_id) == user_id)
    )
    return row.first() is not None


async def may_see(session: AsyncSession, incident: Incident, user_id: str, config: WarroomConfig) -> bool:
    """Whether `user_id` may know the incident exists: anyone for an Open one; for a Restricted one only its
    participants (current or past) and admins. To everyone else a restricted incident does not exist."""
    if incident.visibility != Visibility.RESTRICTED or user_id in config.admins:
        return True
    return await is_participant(session, incident.id, user_id)


async def listed_incidents(
    session: AsyncSession, user_id: str, config: WarroomConfig, *, project_id: int | None = None,
    tag: str | None = None,
) -> list[Incident]:
    """Active and Stable incidents plus those closed in the last 24 h (of a project, carrying a tag);
    restricted ones only for their participants and admins."""
    query = select(Incident).where(
        or_(col(Incident.status).in_(ONGOING_STATUSES), col(Incident.closed_at) >= utcnow() - RECENTLY_CLOSED)
    )
    if project_id is not None:
        query = query.where(col(Incident.project_id) == project_id)
    if tag:
        query = query.where(incidents_tagged(tag))
    incidents = (await session.execute(query.order_by(col(Incident.id).desc()))).scalars().all()
    if user_id in config.admins:
        return list(incidents)
    mine = set(
        (
            await session.execute(
                select(col(Participant.incident_id))
                .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
                .where(col(IndividualContact.slack_user_id) == user_id)
            )
        ).scalars()
    )
    return [i for i in incidents if i.visibility != Visibility.RESTRICTED or i.id in mine]


async def incident_by_id(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def project_id_named(session: AsyncSession, name: str) -> int | None:
    """The id of the project called `name` (exactly), if any."""
    return (await session.execute(select(col(Project.id)).where(col(Project.name) == name))).scalar_one_or_none()


async def may_manage_id(session: AsyncSession, incident_id: int, user_id: str, config: WarroomConfig) -> bool:
    """Whether `user_id` may (still) change the incident: asked again when a managing form comes back."""
    incident = await session.get(Incident, incident_id)
    return incident is not None and (await may_manage(session, incident, user_id, config)).allowed


async def submit_refusal(session: AsyncSession, incident_id: int, user_id: str, config: WarroomConfig, *,
                         managing: bool) -> str | None:
    """Why `user_id` may no longer submit a form about the incident, or None: asked again when a form comes
    back, as the incident may be gone or the person may have lost the right since it opened. A missing
    incident and a restricted one the person is outside of get the same answer."""
    incident = await session.get(Incident, incident_id)
    if incident is None or not await may_see(session, incident, user_id, config):
        return "This incident is not available (it no longer exists, or you are not in it)."
    if managing and not (await may_manage(session, incident, user_id, config)).allowed:
        return ("You are no longer allowed to do this: only the incident's commander, scribes and admins can "
                "(the roles changed since this form opened).")
    return None


async def incident_for_command(
    session: AsyncSession, config: WarroomConfig, *, user_id: str, channel_id: str | None, text: str | None,
    command: str, managing: bool,
) -> Incident | Notice:
    """The incident a command is about, or the notice refusing the command.

    That is the incident of the command's channel; managing commands may name it first in their text
    (`INC-12`), so an archived incident can be reopened from any channel. Outside an incident channel the
    refusal lists the runner's active incidents; with `managing`, only the commander, scribes and admins
    get through.
    """
    # Naming an incident is only honoured for managing commands, whose permission check follows:
    # nobody reads a restricted incident by guessing its name. To someone outside a restricted
    # incident its name is unknown: they get the answer an unknown name gets (no commander, no hint).
    named = await incident_named(session, text) if managing else None
    if named is not None and not await may_see(session, named, user_id, config):
        named = None
    incident = named or await incident_for_channel(session, channel_id)
    if incident is None:
        mine = await active_incidents_of(session, user_id)
        return NotInIncidentChannel(command, [IncidentRef(i.name, i.title, i.status, i.channel_id) for i in mine])
    if managing:
        permission = await may_manage(session, incident, user_id, config)
        if not permission.allowed:
            return NotAllowed(command, permission.who_can, bool(config.admins))
    return incident
