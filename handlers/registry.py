"""Listener registration that also records what the Slack app manifest must declare.

Every Bolt listener is registered through `Registry`, so `bot/manifest.py` derives slash
commands, shortcuts and bot events from the same source the app runs on. Modal submissions
have one shape (`Registry.submission`): the registry parses the view, answers field errors
itself and hands the listener a typed form.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

F = TypeVar("F")
Errors = dict[str, str]  # modal block id -> message shown under that input
Parser = Callable[[dict[str, Any]], tuple[F | None, Errors]]  # pure: the submitted view -> (form, errors)


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
class Submission(Generic[F]):
    """A modal submission whose view parsed: the typed form and who sent it."""

    form: F
    body: dict[str, Any]
    client: AsyncWebClient
    context: AsyncBoltContext

    @property
    def view(self) -> dict[str, Any]:
        return self.body["view"]

    @property
    def view_id(self) -> str:
        """Unique per opened modal: the idempotency key of what the submission creates."""
        return self.view["id"]

    @property
    def user_id(self) -> str:
        return self.body["user"]["id"]

    @property
    def user_name(self) -> str | None:
        return self.body["user"].get("name")

    @property
    def bot_user_id(self) -> str | None:
        return self.context.get("bot_user_id")


Check = Callable[[Submission[F]], Awaitable[Errors | None]]
SubmitListener = Callable[[Submission[F]], Awaitable[Any]]


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
    interactions: list[str] = field(default_factory=list)  # view callbacks, block actions, options
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

    def submission(self, callback_id: str, parse: Parser[F], *, check: Check[F] | None = None,
                   store_first: bool = False) -> Callable[[SubmitListener[F]], SubmitListener[F]]:
        """Register the listener of a modal's submissions; it is handed a `Submission` with the typed form.

        The registry runs the pure `parse` on the view, then the optional `check` (refusals only the
        database can tell, e.g. the submitter lost the right); field errors from either are acked as
        `response_action: errors`, so the modal shows them, and the listener never runs. Otherwise:

        - by default the submission is acked (the modal closes) before the listener runs;
        - with `store_first` the listener runs first and the ack follows: it stores the submission and
          returns field errors (or None). Never ack a submission you could not store: when the listener
          raises, nothing is acked and Slack keeps the modal open with an error.
        """

        def decorator(listener: SubmitListener[F]) -> SubmitListener[F]:
            async def on_submission(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                                    context: AsyncBoltContext) -> None:
                form, errors = parse(body["view"])
                if errors:
                    await ack(response_action="errors", errors=errors)
                    return
                if form is None:
                    raise ValueError(f"{getattr(parse, '__name__', parse)} returned neither a form nor errors")
                sub = Submission(form, body, client, context)
                refusals = await check(sub) if check is not None else None
                if refusals:
                    await ack(response_action="errors", errors=refusals)
                    return
                if not store_first:
                    await ack()
                    await listener(sub)
                    return
                errors = await listener(sub)
                await ack(**({"response_action": "errors", "errors": errors} if errors else {}))

            on_submission.__name__ = on_submission.__qualname__ = listener.__name__
            self.view(callback_id)(on_submission)
            return listener

        return decorator

    def action(self, action_id: str | re.Pattern) -> Callable:
        self.interactions.append(f"action:{getattr(action_id, 'pattern', action_id)}")
        return self._register(self.app.action(action_id))

    def options(self, action_id: str | re.Pattern) -> Callable:
        """Register the listener answering type-ahead searches of an external select (`block_suggestion`);
        it acks with the options found, so it must answer within Slack's 3 seconds."""
        self.interactions.append(f"options:{getattr(action_id, 'pattern', action_id)}")
        return self._register(self.app.block_suggestion(action_id))

    @property
    def listener_count(self) -> int:
        return len(self.commands) + len(self.shortcuts) + len(self.events) + len(self.interactions)
