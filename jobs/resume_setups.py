"""Finish incident channel set-ups that a crash or a Slack outage left unfinished."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.response.setup import resume_pending_setups


async def run(deps: Deps) -> int:
    """Retry every unfinished set-up whose lease has expired."""
    return await resume_pending_setups(deps)
