"""Participants of an incident and the roles they hold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import ensure_contact
from domain.core.ports import UserProfile
from domain.timeline import NewEvent, record_event, record_events
from storage.command_models import ParticipantDetail
from storage.models import IndividualContact, Participant, ParticipantRole
from storage.rows import must_get, table_of
from storage.types import utcnow


async def add_participant(
    session: AsyncSession,
    incident_id: int,
    contact: IndividualContact,
    roles: list[str],
    *,
    reason: str | None = None,
    added_by: IndividualContact | None = None,
    first_in: NewEvent | None = None,
) -> Participant:
    """Add `contact` to the incident with `roles` (idempotent) and log it on the timeline. `first_in`: the
    incident was just created, with this timeline entry still to record: nobody is in it yet (nothing is read),
    and the entry goes in with the participant's."""
    found = [] if first_in is not None else (await session.execute(
        select(Participant, col(ParticipantRole.role))
        .outerjoin(ParticipantRole, and_(col(ParticipantRole.participant_id) == col(Participant.id),
                                         col(ParticipantRole.renounced_at).is_(None)))
        .where(col(Participant.incident_id) == incident_id, col(Participant.individual_id) == contact.id))).all()
    participant = found[0][0] if found else None
    held = {role for _, role in found if role is not None}
    now = utcnow()
    events = [first_in] if first_in is not None else []
    if participant is None:
        participant = Participant(
            incident_id=incident_id,
            individual_id=contact.id,
            added_reason=reason,
            added_by_id=added_by.id if added_by else None,
            active_at=now,
        )
        session.add(participant)
        await session.flush()
        events.append(NewEvent(f"{contact.name} added to the incident" + (f" ({reason})" if reason else ""),
                               author_id=added_by.id if added_by else contact.id))
    assumed = [role for role in dict.fromkeys(roles) if role not in held]
    if assumed:
        await session.execute(insert(table_of(ParticipantRole)),
                              [dict(participant_id=participant.id, role=role, assumed_at=now) for role in assumed])
        events += [NewEvent(f"{contact.name} assumed the {role} role", author_id=contact.id,
                            details={"role": role, "participant_id": participant.id}) for role in assumed]
    await record_events(session, incident_id, events)
    return participant


@dataclass(frozen=True)
class ParticipantView:
    participant_id: int
    user_id: str
    name: str
    roles: list[str]
    team: str | None
    reason: str | None
    expertise: str | None
    department: str | None = None


async def active_participants(session: AsyncSession, incident_id: int) -> list[ParticipantView]:
    """Active participants with their current roles, team, reason added and expertise (3 queries)."""
    rows = (await session.execute(
        select(Participant, IndividualContact)
        .join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
        .where(col(Participant.incident_id) == incident_id, col(Participant.inactive_at).is_(None))
        .order_by(col(Participant.id)))).all()
    ids = [p.id for p, _ in rows]
    held: dict[int, list[str]] = {}
    for pid, role in (await session.execute(select(col(ParticipantRole.participant_id), col(ParticipantRole.role)).where(
            col(ParticipantRole.participant_id).in_(ids), col(ParticipantRole.renounced_at).is_(None)))).all():
        held.setdefault(pid, []).append(role)
    expertise = dict((await session.execute(select(col(ParticipantDetail.participant_id), col(ParticipantDetail.expertise))
                                            .where(col(ParticipantDetail.participant_id).in_(ids)))).all())
    return [ParticipantView(p.id, c.slack_user_id, c.name, sorted(held.get(p.id, [])), p.team, p.added_reason,
                            expertise.get(p.id), p.department) for p, c in rows]


async def set_profile_fields(session: AsyncSession, incident_id: int, profiles: list[UserProfile]) -> int:
    """Store each person's team and department (from their Slack profile) on their participant row in the incident;
    does not commit. Returns how many rows changed."""
    changed = 0
    for profile in profiles:
        participant = (await session.execute(
            select(Participant).join(IndividualContact, col(IndividualContact.id) == col(Participant.individual_id))
            .where(col(Participant.incident_id) == incident_id, col(IndividualContact.slack_user_id) == profile.user_id)
        )).scalar_one_or_none()
        if participant is not None and (participant.team, participant.department) != (profile.team, profile.department):
            participant.team, participant.department = profile.team, profile.department
            changed += 1
    return changed


async def update_participant(session: AsyncSession, incident_id: int, participant_id: int, reason: str,
                             expertise: str, actor_user_id: str) -> bool:
    """Record why someone is in the incident and what they know; commits. False if not a participant here."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.incident_id != incident_id:
        return False
    participant.added_reason = reason or None
    detail = (await session.execute(select(ParticipantDetail).where(
        col(ParticipantDetail.participant_id) == participant_id))).scalar_one_or_none()
    if detail is None:
        detail = ParticipantDetail(participant_id=participant_id)
        session.add(detail)
    detail.expertise = expertise or None
    actor = await ensure_contact(session, actor_user_id)
    contact = await must_get(session, IndividualContact, participant.individual_id)
    await record_event(session, incident_id, f"Participant {contact.name} updated: reason {reason or '—'}, "
                       f"expertise {expertise or '—'}", author_id=actor.id)
    await session.commit()
    return True
