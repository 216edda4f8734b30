"""The incident's pinned summary, built from everything stored about it.

Set-up, the ticket step and the cost job each edit the same pinned message; each builds it here
so one edit never drops what another added (tags, ticket link, response cost).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.ai import THINKING
from domain.documents import incident_links
from domain.incidents.notices import ClosingSummary, IncidentFacts, IncidentSummary
from domain.incidents.service import duration, incident_facts
from domain.incidents.tags import incident_tags
from storage.ai_models import AI_CLOSE, AI_INCIDENT, AISummary
from storage.cost_models import INCIDENT_SUBJECT, custom_costs, subject_cost
from storage.models import Incident
from storage.ticket_models import IncidentTicket


async def incident_summary(session: AsyncSession, incident: Incident, config: WarroomConfig,
                           facts: IncidentFacts | None = None) -> IncidentSummary:
    """The summary notice as it should read now (`facts`: the incident's, when just built)."""
    facts = facts or await incident_facts(session, incident)
    tags = [t.label for t in await incident_tags(session, incident.id)]
    ticket = (await session.execute(
        select(IncidentTicket).where(col(IncidentTicket.incident_id) == incident.id))).scalar_one_or_none()
    cost, custom = await cost_lines(session, incident, config)
    return IncidentSummary(
        facts,
        config.commands.model_dump(),
        tags,
        response_cost=cost,
        custom_costs=custom,
        ticket_key=ticket.key if ticket and ticket.url else None,
        ticket_url=ticket.url if ticket and ticket.key else None,
        links=await incident_links(session, incident.id),
    )


async def cost_lines(session: AsyncSession, incident: Incident, config: WarroomConfig) -> tuple[str | None, list[str]]:
    """The response cost as shown ("$1,234.50"; None before the first calculation or with costs off)
    and the custom costs entered, in config order ("Lost revenue: $5,000.00")."""
    if not config.costs.enabled:
        return None, []
    cost = await subject_cost(session, INCIDENT_SUBJECT, incident.id)
    entered = await custom_costs(session, INCIDENT_SUBJECT, incident.id)
    custom = [f"{t.name}: {config.costs.money(entered[t.name])}" for t in config.costs.custom_types if t.name in entered]
    return (config.costs.money(cost) if cost is not None else None), custom


async def closing_summary(session: AsyncSession, incident: Incident, config: WarroomConfig) -> ClosingSummary:
    """The closing summary as it should read now (its cost is edited in as the job finishes it)."""
    cost, custom = await cost_lines(session, incident, config)
    ai = (await session.execute(select(col(AISummary.state), col(AISummary.text), col(AISummary.error)).where(
        col(AISummary.subject) == AI_INCIDENT, col(AISummary.subject_id) == incident.id,
        col(AISummary.kind) == AI_CLOSE))).first()
    return ClosingSummary(await incident_facts(session, incident), incident.resolution, duration(incident),
                          response_cost=cost, custom_costs=custom,
                          ai_summary=ai.text if ai is not None and ai.state == "done" else None,
                          ai_note=None if ai is None else THINKING if ai.state == "pending" else ai.error)
