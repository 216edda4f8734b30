"""DM assignees of overdue open tasks, at most once a day per task."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.tasks import remind_overdue


async def run(deps: Deps) -> int:
    """Returns how many direct messages were sent."""
    return await remind_overdue(deps)
