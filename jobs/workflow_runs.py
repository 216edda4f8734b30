"""Deliver workflow runs not yet accepted by their webhook (retries, a dead process's) and re-show run messages
that are behind."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.workflows import deliver_due


async def run(deps: Deps) -> int:
    """Returns how many runs were touched."""
    return await deliver_due(deps)
