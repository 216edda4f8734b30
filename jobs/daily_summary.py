"""Once a day, post the incident summary to each notification channel (nothing when quiet)."""

from __future__ import annotations

from domain.announcements.daily_summary import daily_summaries
from domain.core.deps import Deps


async def run(deps: Deps) -> int:
    async with deps.sessions() as session:
        summaries = await daily_summaries(session, deps.config)
    for channel, summary in summaries:
        await deps.ports.conversation.post(channel, summary)
    return len(summaries)
