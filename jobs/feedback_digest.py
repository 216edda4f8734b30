"""Once a day, DM each commander the feedback their incidents received."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.feedback import digests


async def run(deps: Deps) -> int:
    async with deps.sessions() as session:
        by_commander = await digests(session)
    for commander, digest in by_commander.items():
        await deps.ports.conversation.send_direct(commander, digest)
    return len(by_commander)
