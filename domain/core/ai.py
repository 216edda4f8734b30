"""What every AI helper shares: secrets redacted, prompts bounded, one deadline, failures in plain words.

Nothing reaches the AI port without going through `ask`: each line is redacted with the configured
patterns, then the lines are cut oldest first until the prompt fits `max_prompt_chars`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import lru_cache

from domain.config.ai import AIConfig
from domain.core.ports import AIPort, PortError

REDACTED = "[REDACTED]"
LEFT_OUT = "[… {n} older lines left out to keep the prompt short]"
THINKING = "Thinking…"


class AIUnavailable(Exception):
    """The AI did not help: `message` says why, in words for the person who asked."""

    def __init__(self, message: str, code: str = "ai_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@lru_cache(maxsize=16)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def redact(text: str, patterns: list[str] | tuple[str, ...]) -> str:
    """`text` with every match of `patterns` replaced by [REDACTED] (only its first group, when it has one)."""
    for pattern in _compiled(tuple(patterns)):
        text = pattern.sub(_replace_group, text) if pattern.groups else pattern.sub(REDACTED, text)
    return text


def _replace_group(match: re.Match[str]) -> str:
    whole, start = match.group(0), match.start(0)
    if match.group(1) is None:
        return whole
    a, b = match.start(1) - start, match.end(1) - start
    return whole[:a] + REDACTED + whole[b:]


def bound(header: str, lines: list[str], budget: int) -> str:
    """`header` then `lines` (oldest first), the oldest lines dropped until it fits `budget` characters.

    The header (what the subject is) is kept, cut to half the budget at most; a note says how many
    lines were left out."""
    header = header if len(header) <= budget // 2 else header[: budget // 2 - 1] + "…"
    room = budget - len(header) - 1
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = len(line) + 1
        if used + cost > room - len(LEFT_OUT) - 8:
            break
        kept.append(line)
        used += cost
    kept.reverse()
    dropped = len(lines) - len(kept)
    if dropped:
        kept.insert(0, LEFT_OUT.format(n=dropped))
    return "\n".join([header, *kept]) if kept else header


@dataclass(frozen=True)
class Prompt:
    """What to ask: instructions, what the subject is, and its history (oldest first)."""

    system: str
    header: str
    lines: list[str]

    def text(self, config: AIConfig) -> str:
        patterns = config.all_patterns()
        return bound(redact(self.header, patterns), [redact(line, patterns) for line in self.lines],
                     config.max_prompt_chars)


def failure_message(exc: PortError, config: AIConfig) -> str:
    if exc.code == "ai_timeout":
        return f"The AI service did not answer within {config.timeout:g} s. Try again later."
    if exc.code == "ai_rate_limited":
        return "The AI service is busy (rate limited). Try again in a minute."
    if exc.code == "ai_unauthorized":
        return f"The AI service refused warroom's API key: an admin should check {config.api_key_env}."
    if exc.code == "ai_unreachable":
        return "warroom could not reach the AI service. Try again later."
    if exc.code == "ai_disabled":
        return "AI is not configured for warroom."
    return "The AI service failed to answer. Try again later."


async def ask(ai: AIPort, config: AIConfig, prompt: Prompt) -> str:
    """The model's answer to `prompt` (redacted and bounded here), within `config.timeout` seconds.

    Raises `AIUnavailable` with a sentence for the person when it fails, is slow or answers nothing."""
    try:
        answer = await asyncio.wait_for(
            ai.complete(prompt.system, prompt.text(config), max_tokens=config.max_answer_tokens),
            config.timeout + 1)  # the adapter's own deadline is `timeout`; this one catches a stuck adapter
    except TimeoutError:
        raise AIUnavailable(failure_message(PortError("ai_timeout"), config), "ai_timeout") from None
    except PortError as exc:
        raise AIUnavailable(failure_message(exc, config), exc.code) from None
    answer = answer.strip()
    if not answer:
        raise AIUnavailable("The AI service answered with nothing. Try again later.", "ai_empty")
    return answer
