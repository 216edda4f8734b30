"""Listing and describing participants; the stakeholder notifications group."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.contacts import ensure_contact
from domain.incident_update import incident_detail
from domain.timeline import record_event
from storage.command_models import ParticipantDetail
from storage.models import IndividualContact, Participant, ParticipantRole

EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


@dataclass(frozen=True)
class ParticipantView:
    participant_id: int
    user_id: str
    name: str
    roles: list[str]
    team: str | None
    reason: str | None
    expertise: str | None


async def active_participants(session: AsyncSession, incident_id: int) -> list[ParticipantView]:
    """Active participants with their current roles, team, reason added and expertise (3 queries)."""
    rows = (await session.execute(
        select(Participant, IndividualContact)
        .join(IndividualContact, IndividualContact.id == Participant.individual_id)
        .where(Participant.incident_id == incident_id, Participant.inactive_at.is_(None))
        .order_by(Participant.id))).all()
    ids = [p.id for p, _ in rows]
    held: dict[int, list[str]] = {}
    for pid, role in (await session.execute(select(ParticipantRole.participant_id, ParticipantRole.role).where(
            ParticipantRole.participant_id.in_(ids), ParticipantRole.renounced_at.is_(None)))).all():
        held.setdefault(pid, []).append(role)
    expertise = dict((await session.execute(select(ParticipantDetail.participant_id, ParticipantDetail.expertise)
                                            .where(ParticipantDetail.participant_id.in_(ids)))).all())
    return [ParticipantView(p.id, c.slack_user_id, c.name, sorted(held.get(p.id, [])), p.team, p.added_reason,
                            expertise.get(p.id)) for p, c in rows]


async def update_participant(session: AsyncSession, incident_id: int, participant_id: int, reason: str,
                             expertise: str, actor_user_id: str) -> bool:
    """Record why someone is in the incident and what they know; commits. False if not a participant here."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.incident_id != incident_id:
        return False
    participant.added_reason = reason or None
    detail = (await session.execute(select(ParticipantDetail).where(
        ParticipantDetail.participant_id == participant_id))).scalar_one_or_none()
    if detail is None:
        detail = ParticipantDetail(participant_id=participant_id)
        session.add(detail)
    detail.expertise = expertise or None
    actor = await ensure_contact(session, actor_user_id)
    contact = await session.get(IndividualContact, participant.individual_id)
    await record_event(session, incident_id, f"Participant {contact.name} updated: reason {reason or '—'}, "
                       f"expertise {expertise or '—'}", author_id=actor.id)
    await session.commit()
    return True


def parse_emails(text: str) -> tuple[list[str], list[str]]:
    """(valid emails, invalid entries) from comma/space separated text."""
    items = [x for x in re.split(r"[\s,;]+", text or "") if x]
    good = list(dict.fromkeys(x.lower() for x in items if EMAIL.match(x)))
    return good, [x for x in items if not EMAIL.match(x)]


async def notifications_group(session: AsyncSession, incident_id: int) -> tuple[list[str], list[str]]:
    detail = await incident_detail(session, incident_id)
    return list(detail.notify_user_ids or []), list(detail.notify_emails or [])


async def set_notifications_group(session: AsyncSession, incident_id: int, user_ids: list[str], emails: list[str],
                                  actor_user_id: str) -> None:
    """Store who receives stakeholder updates; commits."""
    detail = await incident_detail(session, incident_id)
    detail.notify_user_ids, detail.notify_emails = list(user_ids), list(emails)
    actor = await ensure_contact(session, actor_user_id)
    await record_event(session, incident_id, f"Notifications group updated: {len(user_ids)} people, "
                       f"{len(emails)} emails", author_id=actor.id)
    await session.commit()
