"""The incident's pinned summary, built from everything stored about it.

Set-up, the ticket step and the cost job each edit the same pinned message; each builds it here
so one edit never drops what another added (tags, ticket link, response cost).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.incidents.notices import IncidentSummary
from domain.incidents.service import incident_facts
from domain.incidents.tags import incident_tags
from storage.cost_models import ResponseCost
from storage.models import Incident
from storage.ticket_models import IncidentTicket

INCIDENT_SUBJECT = "incident"


async def incident_summary(session: AsyncSession, incident: Incident, config: WarroomConfig) -> IncidentSummary:
    """The summary notice as it should read now."""
    facts = await incident_facts(session, incident)
    tags = [t.label for t in await incident_tags(session, incident.id)]
    ticket = (await session.execute(
        select(IncidentTicket).where(col(IncidentTicket.incident_id) == incident.id))).scalar_one_or_none()
    cost = (await session.execute(select(func.sum(ResponseCost.amount)).where(
        col(ResponseCost.subject) == INCIDENT_SUBJECT, col(ResponseCost.subject_id) == incident.id))).scalar_one_or_none()
    return IncidentSummary(
        facts,
        config.commands.model_dump(),
        tags,
        response_cost=f"{config.costs.currency}{cost:,.2f}" if cost is not None else None,
        ticket_key=ticket.key if ticket and ticket.url else None,
        ticket_url=ticket.url if ticket and ticket.key else None,
    )
