"""What the AI helpers say in Slack: thinking, an answer, a failure (rendered in modals/ai.py)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.core.notices import Notice


@dataclass(frozen=True)
class AIThinking(Notice):
    """Shown at once while the AI works (`what`: e.g. "a read-in of INC-3")."""

    what: str


@dataclass(frozen=True)
class AIAnswer(Notice):
    """The AI's text about a subject, labelled as written by AI."""

    title: str  # e.g. "Read-in · INC-3"
    text: str


@dataclass(frozen=True)
class AIFailed(Notice):
    """The AI did not help: why, and what still works."""

    title: str
    reason: str
