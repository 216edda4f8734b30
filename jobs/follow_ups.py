"""DM commanders of incidents left Stable (follow_up.stable_days), every follow_up.remind_every_days until closed."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.response.follow_up import remind_stable


async def run(deps: Deps) -> int:
    """Returns how many direct messages were sent."""
    return await remind_stable(deps)
