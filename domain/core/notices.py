"""What a flow asks to be said: notices are plain data; `modals/` renders them to Slack."""

from __future__ import annotations

from dataclasses import dataclass


class Notice:
    """Base of every message a flow posts; a renderer is registered per subclass."""

    __slots__ = ()


@dataclass(frozen=True)
class PlainNotice(Notice):
    """A short plain message (errors, refusals, hints)."""

    text: str
