"""What the Join and Subscribe buttons of an announcement do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config import WarroomConfig
from domain.incident_channel import CLOSED
from domain.membership import Engage, engage
from domain.participants import OBSERVER
from domain.ports import Ports
from storage.models import Incident, Project


async def _incident(session: AsyncSession, name: str) -> Incident | None:
    return (await session.execute(select(Incident).where(Incident.name == name))).scalar_one_or_none()


async def join_from_announcement(sessions: async_sessionmaker[AsyncSession], name: str, user_id: str, ports: Ports,
                                 config: WarroomConfig) -> str:
    """Join as observer; refused for restricted or closed incidents and where self-join is off."""
    async with sessions() as session:
        incident = await _incident(session, name)
        project = await session.get(Project, incident.project_id) if incident else None
    if incident is None or incident.visibility == "Restricted":
        return "You cannot join this incident from here; ask its commander."
    if incident.status == CLOSED or incident.channel_id is None:
        return f"{incident.name} is closed."
    project_config = config.project(project.name) or config.default_project()
    if not project_config.allow_self_join:
        return f"Joining {incident.name} yourself is turned off; ask its commander."
    new = await engage(sessions, incident.id, [Engage(user_id, (OBSERVER,), "Joined from the announcement")], ports, config)
    return f"You joined <#{incident.channel_id}>." if new else f"You are already in <#{incident.channel_id}>."


async def subscribe_from_announcement(sessions: async_sessionmaker[AsyncSession], name: str, user_id: str) -> str:
    """Add the user to the incident's notifications group."""
    from domain.incident_update import incident_detail

    async with sessions() as session:
        incident = await _incident(session, name)
        if incident is None or incident.visibility == "Restricted":
            return "You cannot subscribe to this incident."
        detail = await incident_detail(session, incident.id)
        if user_id in (detail.notify_user_ids or []):
            return f"You are already subscribed to {incident.name}."
        detail.notify_user_ids = [*(detail.notify_user_ids or []), user_id]
        await session.commit()
    return f"You will receive stakeholder updates about {incident.name}."
