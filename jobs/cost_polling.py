"""Cost polling: new incident-channel activity and role time become response costs."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.cost_polling import poll_costs


async def run(deps: Deps) -> dict[str, int]:
    """One run (a no-op when `costs.enabled` is false); returns what it did."""
    if not deps.config.costs.enabled:
        return {}
    stats = await poll_costs(deps)
    return {"calls": stats.calls, "incidents": stats.incidents, "deferred": stats.deferred,
            "messages": stats.messages, "updated": len(stats.updated)}
