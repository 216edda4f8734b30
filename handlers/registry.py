"""Listener registration that also records what the Slack app manifest must declare.

Every Bolt listener is registered through `Registry`, so `bot/manifest.py` derives slash
commands, shortcuts and bot events from the same source the app runs on. Modal submissions
have one shape (`Registry.submission`): the registry parses the view, answers field errors
itself and hands the listener a typed form.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_errors import port_error
from domain.core.aio import AckFirst
from domain.core.outage import OUTAGE_COMMAND_MESSAGE, OUTAGE_MESSAGE, is_database_outage, watching_commits
from domain.core.ports import PortError

log = logging.getLogger(__name__)
ACK_WAIT = 3.0  # seconds Slack waits for an ack; a listener still silent then is logged and left running

F = TypeVar("F")
Errors = dict[str, str]  # modal block id -> message shown under that input
Parser = Callable[[dict[str, Any]], tuple[F | None, Errors]]  # pure: the submitted view -> (form, errors)


SLACK_FAILURE_MESSAGE = ("Slack did not let warroom finish that just now ({code}); nothing you sent was lost. "
                         "Please try again in a moment.")


def guarded(fn: Callable) -> Callable:
    """Log a listener's failure after it acked instead of letting it reach Bolt.

    A failure after the ack must not reach Bolt: it would answer an envelope already answered, or
    (had it not been sent yet) replace the ack with an error, so Slack redelivers it and the work
    runs twice. Bolt
    resolves listener arguments through `inspect.unwrap`, so the wrapper keeps injection intact.
    Whatever went wrong after the ack, the person hears of it (`tell_person`): a database outage,
    or a Slack call failing (e.g. `views.open` answered 503 however often it was retried), which
    every listener leaves to this guard instead of catching it itself.
    """

    @functools.wraps(fn)
    async def listener(**kwargs):
        try:
            return await fn(**kwargs)
        except Exception as exc:
            ack = kwargs.get("ack")
            if ack is None or getattr(ack, "response", None) is None:
                raise
            # A bare TimeoutError may be the database's: that is the outage below.
            failure = port_error(exc) if isinstance(exc, (PortError, SlackApiError, aiohttp.ClientError)) else None
            if failure is not None:
                log.warning("listener %s: a Slack call failed after acknowledging: %s", fn.__name__, failure)
                await tell_person(kwargs, SLACK_FAILURE_MESSAGE.format(code=failure.code))
                return None
            if is_database_outage(exc):
                log.warning("listener %s: database unavailable: %r", fn.__name__, exc)
                await tell_person(kwargs, OUTAGE_COMMAND_MESSAGE)
                return None
            log.exception("listener %s failed after acknowledging", fn.__name__)

    return listener


class WrappedAck(AsyncAck):
    """Bolt's `ack` with something done around it (subclasses define `__call__`); `response` stays the
    wrapped one's, which is what Bolt reads."""

    _inner: AsyncAck

    @property
    def response(self):
        return self._inner.response

    @response.setter
    def response(self, value) -> None:
        if hasattr(self, "_inner"):  # (AsyncAck.__init__ sets it before `_inner` exists)
            self._inner.response = value


class _SignallingAck(WrappedAck):
    """Bolt's `ack` that also sets `acked` once called."""

    def __init__(self, inner: AsyncAck, acked: asyncio.Event) -> None:
        self._inner, self._acked = inner, acked

    async def __call__(self, *args: Any, **kwargs: Any):
        try:
            return await self._inner(*args, **kwargs)
        finally:
            self._acked.set()


def _user_of(body: dict[str, Any]) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id")


async def tell_person(kwargs: dict[str, Any], text: str) -> None:
    """Tell whoever the request came from: ephemeral where they are (its response URL), else by DM."""
    body = kwargs.get("body") or {}
    respond = kwargs.get("respond")
    url = body.get("response_url")
    if respond is None and url:
        respond = AsyncRespond(response_url=url)
    if respond is not None:
        try:
            await respond(response_type="ephemeral", replace_original=False, text=text)
            return
        except Exception:  # try the DM
            log.warning("could not answer through the response URL; sending a DM", exc_info=True)
    client, user = kwargs.get("client"), _user_of(body)
    if client is None or user is None:
        return
    try:
        opened = await client.conversations_open(users=user)
        await client.chat_postMessage(channel=opened["channel"]["id"], text=text)
    except Exception:  # the failure is already logged; this is a courtesy
        log.warning("could not tell %s what went wrong", user, exc_info=True)


async def ack_errors(ack: AsyncAck, errors: Errors | None) -> None:
    """Ack a submission: with field errors the modal stays open showing them, without it closes."""
    if errors:
        await ack(response_action="errors", errors=errors)
    else:
        await ack()


def first_input(view: dict[str, Any]) -> str | None:
    """Block id of the modal's first input: where a whole-form error is shown."""
    return next((b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input" and b.get("block_id")),
                None)


async def refuse_for_outage(ack: AsyncAck, view: dict[str, Any]) -> None:
    """Keep the modal open saying the database is unreachable; a modal with no input to show it under is
    left unacked, which Slack's client shows as an error (still open)."""
    block = first_input(view)
    if block:
        await ack(response_action="errors", errors={block: OUTAGE_MESSAGE})


def failure_errors(view: dict[str, Any]) -> Errors:
    block = first_input(view)
    return {block: "warroom could not save this (an internal error, logged): nothing was saved. Try again."} \
        if block else {}


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
    store_timeout: float = 2.0  # seconds a submission may take to be checked and stored before it is refused
    ack_first: AckFirst = field(default_factory=AckFirst)  # submissions not acked yet (background work waits)

    def _register(self, bolt_decorator: Callable) -> Callable:
        return lambda fn: bolt_decorator(self._tracked(guarded(fn)))

    def _tracked(self, fn: Callable) -> Callable:
        """Run the listener as a task and give Bolt back control the moment it acks (the app runs with
        `process_before_response`, so Bolt sends the ack as soon as this returns): Bolt's own way polls
        for the ack every 10 ms per request, which added up to 10 ms to every ack and woke the loop 100
        times a second for each request in flight. What the listener does after its ack goes on in the
        task, which `drain` waits for."""

        @functools.wraps(fn)
        async def listener(**kwargs):
            bolt_ack = kwargs.get("ack")
            acked = asyncio.Event()
            if bolt_ack is not None:
                kwargs["ack"] = _SignallingAck(bolt_ack, acked)
            task = asyncio.ensure_future(fn(**kwargs))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
            waiter = asyncio.ensure_future(acked.wait())
            try:
                await asyncio.wait({task, waiter}, timeout=ACK_WAIT, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if task.done() and (bolt_ack is None or bolt_ack.response is None):
                return task.result()  # it ended without acking: its error (or its return) is Bolt's to handle
            if not task.done() and bolt_ack is not None and bolt_ack.response is None:
                log.warning("listener %s did not ack within %.0f s", fn.__name__, ACK_WAIT)
            return None

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
        database can tell: the incident is gone, the submitter lost the right); field errors from either
        are acked as `response_action: errors`, so the modal shows them, and the listener never runs.

        Never ack a submission you could not store. Otherwise the modal closes only once the submission
        is stored, within `store_timeout` seconds of its arrival (Slack waits 3 s for the ack):

        - by default the listener runs and the submission is acked as soon as its first transaction
          commits (`domain.core.outage.watching_commits`), or when it returns having stored nothing
          (e.g. a duplicate); what it does after the commit (Slack calls) runs after the ack;
        - with `store_first` the listener stores the submission and returns field errors (or None),
          which are acked.

        When the database fails or does not answer in time before anything was stored, the listener is
        cancelled and the modal stays open with `OUTAGE_MESSAGE` under its first input: nothing typed is
        lost and submitting again stores it once.
        """

        def decorator(listener: SubmitListener[F]) -> SubmitListener[F]:
            async def on_submission(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                                    context: AsyncBoltContext) -> None:
                self.ack_first.arrived()
                counted = False

                async def counted_ack(*args: Any, **kwargs: Any) -> Any:
                    nonlocal counted
                    try:
                        return await ack(*args, **kwargs)
                    finally:
                        if not counted:
                            counted = True
                            self.ack_first.acked()

                try:
                    await submission(counted_ack, body, client, context)
                finally:
                    if not counted:
                        self.ack_first.acked()

            async def submission(ack: Any, body: dict[str, Any], client: AsyncWebClient,
                                 context: AsyncBoltContext) -> None:
                form, errors = parse(body["view"])
                if errors:
                    await ack(response_action="errors", errors=errors)
                    return
                if form is None:
                    raise ValueError(f"{getattr(parse, '__name__', parse)} returned neither a form nor errors")
                sub = Submission(form, body, client, context)
                deadline = asyncio.get_running_loop().time() + self.store_timeout
                refusals = None
                if check is not None:
                    checking = asyncio.ensure_future(check(sub))
                    await asyncio.wait({checking}, timeout=deadline - asyncio.get_running_loop().time())
                    if not checking.done() or is_database_outage(checking.exception()):
                        # Not cancelled: a read that gives up mid-statement can leave SQLite's write lock
                        # with a stranded connection; it ends on the driver's own timeout, unheeded.
                        log.warning("database unavailable checking %s", callback_id)
                        await refuse_for_outage(ack, sub.view)
                        with contextlib.suppress(BaseException):
                            await checking
                        return
                    refusals = checking.result()
                if refusals:
                    await ack(response_action="errors", errors=refusals)
                    return
                await self._store_then_ack(callback_id, listener, sub, ack, deadline, store_first=store_first)

            on_submission.__name__ = on_submission.__qualname__ = listener.__name__
            self.view(callback_id)(on_submission)
            return listener

        return decorator

    async def _store_then_ack(self, callback_id: str, listener: SubmitListener[F], sub: Submission[F],
                              ack: AsyncAck, deadline: float, *, store_first: bool) -> None:
        with watching_commits() as stored:
            task = asyncio.ensure_future(listener(sub))
        waiter = asyncio.ensure_future(stored.wait())
        await asyncio.wait({task, waiter}, timeout=max(deadline - asyncio.get_running_loop().time(), 0),
                           return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            exc = task.exception()
            if exc is None:
                errors = task.result() if store_first else None
                await ack_errors(ack, errors)
                return
            if stored.is_set() or not is_database_outage(exc):
                await ack_errors(ack, None if stored.is_set() else failure_errors(sub.view))
                raise exc
            log.warning("database unavailable storing %s: %r", callback_id, exc)
            await refuse_for_outage(ack, sub.view)
            return
        if stored.is_set():
            if store_first:  # stored: its field errors are worth the wait
                errors = await task
                await ack_errors(ack, errors)
                return
            await ack()
            await task  # the slow rest (Slack calls) after the ack; a failure is logged by `guarded`
            return
        # Nothing committed in time: keep the modal open. The listener is not cancelled (a statement given up
        # mid-way can strand SQLite's write lock on a lost connection); it ends on the driver's own timeout.
        log.warning("database too slow storing %s (%.1f s): keeping the modal open", callback_id, self.store_timeout)
        await refuse_for_outage(ack, sub.view)
        with contextlib.suppress(BaseException):
            await task

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
