"""Once a day, DM each case assignee the feedback their cases received."""

from __future__ import annotations

from domain.cases.feedback import send_case_digests
from domain.core.deps import Deps


async def run(deps: Deps) -> int:
    return await send_case_digests(deps)
