"""Remind assignees of cases left New past their type's triage time, or Triage/Stable without change for days."""

from __future__ import annotations

from domain.cases.reminders import remind_cases
from domain.core.deps import Deps


async def run(deps: Deps) -> int:
    """Send each due reminder once per interval slot (claimed in the database first); returns how many were sent."""
    return await remind_cases(deps)
