"""DM commanders whose incidents are due a tactical or executive report."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.reports import claim_reminder, due_reminders
from storage.types import utcnow


async def run(deps: Deps) -> int:
    """Send each due reminder once (claimed in the database first); returns how many were sent."""
    now = utcnow()
    async with deps.sessions() as session:
        due = await due_reminders(session, now)
    sent = 0
    for reminder, commander, due_at in due:
        async with deps.sessions() as session:
            if not await claim_reminder(session, reminder.incident_id, reminder.kind, due_at, now):
                continue
        await deps.ports.conversation.send_direct(commander, reminder)
        sent += 1
    return sent
