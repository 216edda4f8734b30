"""The incident's pinned summary, built from everything stored about it.

Set-up, the ticket step and the cost job each edit the same pinned message; each builds it here
so one edit never drops what another added (tags, ticket link, response cost).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.core.ai import THINKING
from domain.documents import TITLES
from domain.incidents.notices import ClosingSummary, IncidentFacts, IncidentSummary
from domain.incidents.service import duration, incident_facts
from domain.incidents.tags import incident_tags
from storage.ai_models import AI_CLOSE, AI_INCIDENT, AISummary
from storage.cost_models import INCIDENT_SUBJECT, CustomCost, ResponseCost, custom_costs, subject_cost
from storage.google_models import IncidentResource
from storage.models import Incident
from storage.ticket_models import IncidentTicket


async def incident_summary(session: AsyncSession, incident: Incident, config: WarroomConfig,
                           facts: IncidentFacts | None = None) -> IncidentSummary:
    """The summary notice as it should read now (`facts`: the incident's, when just built)."""
    facts = facts or await incident_facts(session, incident)
    tags = [t.label for t in await incident_tags(session, incident.id)]
    ticket: tuple[str | None, str | None] = (None, None)
    total: float | None = None
    entered: dict[str, float] = {}
    links: list[tuple[str, str]] = []
    for kind, name, url, amount, _ in await session.execute(_ADDED, {"incident_id": incident.id}):
        if kind == "ticket":
            ticket = (name, url)
        elif kind == "cost":
            total = None if amount is None else float(amount)
        elif kind == "custom":
            entered[name] = float(amount)
        else:
            links.append((TITLES[name], url or ""))
    cost, custom = _cost_text(config, total, entered)
    key, url = ticket
    return IncidentSummary(
        facts,
        config.commands.model_dump(),
        tags,
        response_cost=cost,
        custom_costs=custom,
        ticket_key=key if key and url else None,
        ticket_url=url if key and url else None,
        links=links,
    )


# What other steps added to the incident, in one statement (the summary is rebuilt by the set-up, the ticket
# step and the cost job): (kind, name, url, amount) rows of its ticket ("ticket", key, url), its response cost
# summed over the models ("cost"), the custom costs entered ("custom", type, amount) and its Google resources
# that exist ("link", kind, url), the latter in creation order.
_INCIDENT: Any = bindparam("incident_id")
_ADDED: Any = union_all(
    select(literal_column("'ticket'").label("kind"), col(IncidentTicket.key).label("name"),
           col(IncidentTicket.url).label("url"), null().label("amount"), literal_column("0").label("seq"))
    .where(col(IncidentTicket.incident_id) == _INCIDENT),
    select(literal_column("'cost'"), null(), null(), func.sum(ResponseCost.amount), literal_column("0"))
    .where(col(ResponseCost.subject) == INCIDENT_SUBJECT, col(ResponseCost.subject_id) == _INCIDENT),
    select(literal_column("'custom'"), col(CustomCost.cost_type), null(), col(CustomCost.amount), literal_column("0"))
    .where(col(CustomCost.subject) == INCIDENT_SUBJECT, col(CustomCost.subject_id) == _INCIDENT),
    select(literal_column("'link'"), col(IncidentResource.kind), col(IncidentResource.url), null(),
           col(IncidentResource.id))
    .where(col(IncidentResource.incident_id) == _INCIDENT, col(IncidentResource.url).is_not(None),
           col(IncidentResource.kind).in_(list(TITLES))),
).order_by(literal_column("seq"))


async def cost_lines(session: AsyncSession, incident: Incident, config: WarroomConfig) -> tuple[str | None, list[str]]:
    """The response cost as shown ("$1,234.50"; None before the first calculation or with costs off)
    and the custom costs entered, in config order ("Lost revenue: $5,000.00")."""
    if not config.costs.enabled:
        return None, []
    return _cost_text(config, await subject_cost(session, INCIDENT_SUBJECT, incident.id),
                      await custom_costs(session, INCIDENT_SUBJECT, incident.id))


def _cost_text(config: WarroomConfig, cost: float | None, entered: dict[str, float]) -> tuple[str | None, list[str]]:
    if not config.costs.enabled:
        return None, []
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
