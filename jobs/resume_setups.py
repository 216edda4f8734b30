"""Finish incident channel set-ups that a crash or a Slack outage left unfinished."""

from __future__ import annotations

from domain.reporting import resume_pending_setups
from domain.deps import Deps


async def run(deps: Deps) -> int:
    """Retry every unfinished set-up whose lease has expired."""
    return await resume_pending_setups(deps.sessions, deps.ports, deps.config)
