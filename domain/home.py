"""The App Home tab's content: a person's active and recent incidents with their roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.command_notices import IncidentRef
from domain.incident_channel import ACTIVE, STABLE
from storage.models import Incident, IndividualContact, Participant, ParticipantRole

RECENT = 10


async def home_incidents(session: AsyncSession, user_id: str) -> tuple[list[IncidentRef], list[IncidentRef]]:
    """(active/stable incidents where the user is active, their most recent other incidents) — 2 queries."""
    rows = (await session.execute(
        select(Incident, Participant)
        .join(Participant, Participant.incident_id == Incident.id)
        .join(IndividualContact, IndividualContact.id == Participant.individual_id)
        .where(IndividualContact.slack_user_id == user_id)
        .order_by(Incident.id.desc()))).all()
    held: dict[int, list[str]] = {}
    for pid, role in (await session.execute(select(ParticipantRole.participant_id, ParticipantRole.role).where(
            ParticipantRole.participant_id.in_([p.id for _, p in rows]), ParticipantRole.renounced_at.is_(None)))).all():
        held.setdefault(pid, []).append(role)
    active, recent = [], []
    for incident, p in rows:
        ref = IncidentRef(incident.name, incident.title, incident.status, incident.channel_id,
                          ", ".join(sorted(held.get(p.id, []))) or "participant")
        if incident.status in (ACTIVE, STABLE) and p.inactive_at is None:
            active.append(ref)
        elif len(recent) < RECENT:
            recent.append(ref)
    return active, recent
