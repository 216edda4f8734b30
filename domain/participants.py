"""Participants of an incident and the roles they hold."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.timeline import record_event
from storage.models import IndividualContact, Participant, ParticipantRole
from storage.types import utcnow

COMMANDER = "commander"
REPORTER = "reporter"
PARTICIPANT = "participant"
OBSERVER = "observer"


async def add_participant(
    session: AsyncSession,
    incident_id: int,
    contact: IndividualContact,
    roles: list[str],
    *,
    reason: str | None = None,
    added_by: IndividualContact | None = None,
) -> Participant:
    """Add `contact` to the incident with `roles` (idempotent) and log it on the timeline."""
    participant = (
        await session.execute(
            select(Participant).where(Participant.incident_id == incident_id, Participant.individual_id == contact.id)
        )
    ).scalar_one_or_none()
    now = utcnow()
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
        await record_event(
            session,
            incident_id,
            f"{contact.name} added to the incident" + (f" ({reason})" if reason else ""),
            author_id=added_by.id if added_by else contact.id,
        )
    held = set(
        (
            await session.execute(
                select(ParticipantRole.role).where(
                    ParticipantRole.participant_id == participant.id, ParticipantRole.renounced_at.is_(None)
                )
            )
        ).scalars()
    )
    for role in roles:
        if role in held:
            continue
        session.add(ParticipantRole(participant_id=participant.id, role=role, assumed_at=now))
        await session.flush()
        await record_event(
            session,
            incident_id,
            f"{contact.name} assumed the {role} role",
            author_id=contact.id,
            details={"role": role, "participant_id": participant.id},
        )
    return participant
