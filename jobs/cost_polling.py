"""Cost polling: new incident and case conversation activity and role time become response costs."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.cost_polling import poll_costs


async def run(deps: Deps) -> dict[str, int]:
    """One run (a no-op when `costs.enabled` is false); returns what it did."""
    if not deps.config.costs.enabled:
        return {}
    stats = await poll_costs(deps)
    return {"calls": stats.calls, "incidents": stats.incidents, "cases": stats.cases, "deferred": stats.deferred,
            "messages": stats.messages, "updated": len(stats.updated) + len(stats.updated_cases),
            "rate_limited": int(stats.rate_limited)}
