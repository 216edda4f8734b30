"""Finish incident channel set-ups that a crash or a Slack outage left unfinished."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.response.setup import resume_pending_setups
from domain.response.tickets import resume_tickets


async def run(deps: Deps) -> int:
    """Retry every unfinished set-up whose lease has expired, then ticket work that is due."""
    return await resume_pending_setups(deps) + await resume_tickets(deps)
