"""The daily summary of open and recently closed incidents, per notification channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.announcements.service import matches
from domain.config.schema import WarroomConfig
from domain.core.notices import Notice
from domain.core.vocabulary import ONGOING_STATUSES, SetupState, Visibility
from domain.incidents.notices import IncidentFacts
from domain.incidents.service import incident_facts
from storage.cost_models import INCIDENT_SUBJECT, subject_costs
from storage.models import Incident
from storage.types import utcnow


@dataclass(frozen=True)
class DailySummary(Notice):
    channel_name: str
    incidents: list[IncidentFacts]
    costs: dict[str, str] = field(default_factory=dict)  # incident name -> response cost, once costed


async def daily_summaries(session: AsyncSession, config: WarroomConfig, now: datetime | None = None
                          ) -> list[tuple[str, DailySummary]]:
    """(channel id, summary) for each notification channel with something to say.

    Active and Stable incidents plus those closed in the last 24 h; open visibility only.
    """
    since = (now or utcnow()) - timedelta(days=1)
    incidents = (await session.execute(
        select(Incident).where(col(Incident.visibility) == Visibility.OPEN, col(Incident.setup_state) == SetupState.READY,
                               or_(col(Incident.status).in_(ONGOING_STATUSES), col(Incident.closed_at) >= since))
        .order_by(col(Incident.id)))).scalars().all()
    facts = [await incident_facts(session, i) for i in incidents]
    amounts = await subject_costs(session, INCIDENT_SUBJECT, [i.id for i in incidents]) if config.costs.enabled else {}
    costs = {i.name: config.costs.money(amounts[i.id]) for i in incidents if i.id in amounts}
    out = []
    for channel in config.notification_channels:
        chosen = [f for f in facts if matches(channel, f)]
        if chosen:
            out.append((channel.channel, DailySummary(channel.name, chosen, {f.name: costs[f.name] for f in chosen
                                                                              if f.name in costs})))
    return out
