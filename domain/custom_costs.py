"""Custom costs: amounts people enter by hand for an incident (the types come from
`costs.custom_types`, e.g. "Lost revenue"), shown beside the response cost on the summary and the
closing summary; never added to the response cost."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.deps import Deps
from domain.cost_polling import show_incident_cost
from domain.timeline import record_event
from storage.cost_models import INCIDENT_SUBJECT, CustomCost, custom_costs
from storage.types import utcnow
from storage.upsert import upsert_insert

MAX_AMOUNT = 1e12


@dataclass(frozen=True)
class CustomCostForm:
    """What the update-cost form says: each type's amount (None: cleared)."""

    incident_id: int
    amounts: dict[str, float | None]


def parse_amount(text: str, currency: str = "$") -> float | None:
    """An amount as people type it ("12,500", "$1,200.50", " 300 "); None for a blank; ValueError
    with a message a person can act on otherwise."""
    cleaned = text.strip().replace(currency, "").replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError("Not an amount: write a number such as 12500 or 12,500.00") from None
    if value != value or value < 0 or value > MAX_AMOUNT:  # NaN, negative, absurd
        raise ValueError(f"Write an amount between 0 and {MAX_AMOUNT:,.0f}")
    return round(value, 2)


async def current_custom_costs(session: AsyncSession, incident_id: int) -> dict[str, float]:
    return await custom_costs(session, INCIDENT_SUBJECT, incident_id)


async def save_custom_costs(deps: Deps, form: CustomCostForm, *, actor: str) -> list[str]:
    """Store the form (only the types still configured), log each change on the timeline, then show
    it on the summary and the closing summary. Returns the changes ("Lost revenue: $5,000.00")."""
    config: WarroomConfig = deps.config
    known = {t.name for t in config.costs.custom_types}
    changes: list[str] = []
    async with deps.sessions() as session:
        current = await current_custom_costs(session, form.incident_id)
        author = await ensure_contact(session, actor)
        for name, amount in form.amounts.items():
            if name not in known or current.get(name) == amount:
                continue
            where = (col(CustomCost.subject) == INCIDENT_SUBJECT, col(CustomCost.subject_id) == form.incident_id,
                     col(CustomCost.cost_type) == name)
            if amount is None:
                await session.execute(delete(CustomCost).where(*where))
                changes.append(f"{name}: cleared")
                continue
            values = {"amount": amount, "updated_by": actor, "updated_at": utcnow()}
            await session.execute(  # two people saving at once: the later one wins, no error
                upsert_insert(session, CustomCost)
                .values(subject=INCIDENT_SUBJECT, subject_id=form.incident_id, cost_type=name, **values)
                .on_conflict_do_update(index_elements=["subject", "subject_id", "cost_type"], set_=values))
            changes.append(f"{name}: {config.costs.money(amount)}")
        if changes:
            await record_event(session, form.incident_id, f"{author.name or actor} set " + "; ".join(changes),
                               author_id=author.id, details={"custom_costs": changes})
        await session.commit()
    if changes:
        await show_incident_cost(deps, form.incident_id)
    return changes
