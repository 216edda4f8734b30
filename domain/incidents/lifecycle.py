"""Incident status transitions (Active → Stable → Closed, and reopening), database side."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.vocabulary import IncidentStatus, Role
from domain.participants import add_participant
from domain.timeline import record_event
from storage.models import Incident, IncidentPriority, IndividualContact, Participant, ParticipantRole, Project
from storage.rows import must_get
from storage.types import utcnow


async def enter_status(
    session: AsyncSession, incident: Incident, new_status: str, config: WarroomConfig, actor_id: int | None
) -> list[tuple[str, str, str]]:
    """Move `incident` to `new_status` with its side rules; returns extra field changes (priority swap).

    Does not commit. Stable records the review step and may swap the priority; Closed renounces
    every role; leaving Closed reactivates participants and gives the commander back its role.
    """
    old = incident.status
    if new_status == old:
        return []
    now = utcnow()
    extra: list[tuple[str, str, str]] = []
    incident.status = new_status
    if old == IncidentStatus.CLOSED:
        incident.closed_at = None
        await _reactivate(session, incident, actor_id)
        await record_event(session, incident.id, f"Incident reopened as {new_status}", author_id=actor_id)
    if new_status in (IncidentStatus.STABLE, IncidentStatus.CLOSED) and incident.stable_at is None:
        incident.stable_at = now
        await record_event(session, incident.id, "Incident marked Stable", author_id=actor_id)
        # The review document comes with the documents integration; the step is recorded now.
        await record_event(session, incident.id, "Post-incident review step started", author_id=actor_id,
                           details={"step": "review"}, dedupe_key=f"incident:{incident.id}:review")
        extra += await _swap_priority(session, incident, config)
    if new_status == IncidentStatus.ACTIVE:
        incident.stable_at = None
    if new_status == IncidentStatus.CLOSED:
        incident.closed_at = now
        await _renounce_all(session, incident.id, now)
        await record_event(session, incident.id, "Incident closed; every role renounced", author_id=actor_id)
    return extra


async def _swap_priority(session: AsyncSession, incident: Incident, config: WarroomConfig) -> list[tuple[str, str, str]]:
    project = await must_get(session, Project, incident.project_id)
    wanted = next((p.stable_priority for p in config.projects if p.name == project.name), None)
    if not wanted:
        return []
    target = (
        await session.execute(select(IncidentPriority).where(
            col(IncidentPriority.project_id) == project.id, col(IncidentPriority.name) == wanted, col(IncidentPriority.enabled)))
    ).scalar_one_or_none()
    if target is None or target.id == incident.incident_priority_id:
        return []
    old = await must_get(session, IncidentPriority, incident.incident_priority_id)
    incident.incident_priority_id = target.id
    await record_event(session, incident.id, f"Priority changed from {old.name} to {target.name} (stable priority)",
                       details={"field": "priority", "old": old.name, "new": target.name})
    return [("Priority", old.name, target.name)]


async def _renounce_all(session: AsyncSession, incident_id: int, now: datetime) -> None:
    ids = select(col(Participant.id)).where(col(Participant.incident_id) == incident_id)
    await session.execute(
        update(ParticipantRole)
        .where(col(ParticipantRole.participant_id).in_(ids), col(ParticipantRole.renounced_at).is_(None))
        .values(renounced_at=now)
        .execution_options(synchronize_session=False)
    )


async def _reactivate(session: AsyncSession, incident: Incident, actor_id: int | None) -> None:
    await session.execute(
        update(Participant)
        .where(col(Participant.incident_id) == incident.id)
        .values(inactive_at=None)
        .execution_options(synchronize_session=False)
    )
    if incident.commander_id:
        commander = await must_get(session, IndividualContact, incident.commander_id)
        await add_participant(session, incident.id, commander, [Role.COMMANDER], reason="Incident reopened")
