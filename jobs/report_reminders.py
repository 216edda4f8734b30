"""DM commanders whose incidents are due a tactical or executive report."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.reports import send_report_reminders


async def run(deps: Deps) -> int:
    """Send each due reminder once (claimed in the database first); returns how many were sent."""
    return await send_report_reminders(deps)
