"""Listener registration that also records what the Slack app manifest must declare.

Every Bolt listener is registered through `Registry`, so `bot/manifest.py` derives slash
commands, shortcuts and bot events from the same source the app runs on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Callable

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


def guarded(fn: Callable) -> Callable:
    """Log a listener's failure after it acked instead of letting it reach Bolt.

    Bolt polls for the ack every 10 ms; a listener that acks and then raises within that window
    has its ack discarded, so Slack redelivers the envelope and the work runs twice. Bolt
    resolves listener arguments through `inspect.unwrap`, so the wrapper keeps injection intact.
    """

    @functools.wraps(fn)
    async def listener(**kwargs):
        try:
            return await fn(**kwargs)
        except Exception:
            ack = kwargs.get("ack")
            if ack is None or getattr(ack, "response", None) is None:
                raise
            log.exception("listener %s failed after acknowledging", fn.__name__)

    return listener


@dataclass(frozen=True)
class CommandSpec:
    command: str
    description: str
    usage_hint: str = ""


@dataclass(frozen=True)
class ShortcutSpec:
    callback_id: str
    name: str
    description: str
    type: str  # "message" or "global"


@dataclass
class Registry:
    app: AsyncApp
    commands: list[CommandSpec] = field(default_factory=list)
    shortcuts: list[ShortcutSpec] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    interactions: list[str] = field(default_factory=list)  # view callbacks and block actions
    inflight: set = field(default_factory=set)  # listener tasks still running after their ack

    def _register(self, bolt_decorator: Callable) -> Callable:
        return lambda fn: bolt_decorator(self._tracked(guarded(fn)))

    def _tracked(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        async def listener(**kwargs):
            task = asyncio.current_task()
            self.inflight.add(task)
            try:
                return await fn(**kwargs)
            finally:
                self.inflight.discard(task)

        return listener

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for listeners still working after their ack (a clean shutdown finishes them)."""
        pending = {t for t in self.inflight if t is not asyncio.current_task() and not t.done()}
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def command(self, command: str, description: str, usage_hint: str = "") -> Callable:
        self.commands.append(CommandSpec(command, description, usage_hint))
        return self._register(self.app.command(command))

    def message_shortcut(self, callback_id: str, name: str, description: str) -> Callable:
        self.shortcuts.append(ShortcutSpec(callback_id, name, description, "message"))
        return self._register(self.app.message_shortcut(callback_id))

    def global_shortcut(self, callback_id: str, name: str, description: str) -> Callable:
        self.shortcuts.append(ShortcutSpec(callback_id, name, description, "global"))
        return self._register(self.app.shortcut(callback_id))

    def event(self, event_type: str) -> Callable:
        self.events.append(event_type)
        return self._register(self.app.event(event_type))

    def view(self, callback_id: str) -> Callable:
        self.interactions.append(f"view:{callback_id}")
        return self._register(self.app.view(callback_id))

    def action(self, action_id: str | re.Pattern) -> Callable:
        self.interactions.append(f"action:{getattr(action_id, 'pattern', action_id)}")
        return self._register(self.app.action(action_id))

    @property
    def listener_count(self) -> int:
        return len(self.commands) + len(self.shortcuts) + len(self.events) + len(self.interactions)
