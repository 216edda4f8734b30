"""AI follow-ups: a closing AI summary a dead process left at "Thinking…" is finished; new signal cases get
a short analysis in their card's thread (ai: features: case_analysis)."""

from __future__ import annotations

from domain.cases.assistant import ai_followups
from domain.core.deps import Deps


async def run(deps: Deps) -> int:
    """Returns how many summaries and analyses were written."""
    return await ai_followups(deps)
