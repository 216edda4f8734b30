"""The one `message` listener (Bolt runs only the first listener of an event): a reply in a case
card's thread makes its author work the case; an observer who talks in an incident channel becomes
a participant; a mention of someone not on a case offers its assignee to add them; anything a
person says marks its conversation for the cost job."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from domain.cases import lifecycle
from domain.cases.mentions import offer_mentioned
from domain.core.deps import Deps
from domain.cost_polling import mark_activity
from domain.response.membership import note_message
from handlers.registry import Registry


def register(reg: Registry, deps: Deps) -> None:
    @reg.event("message")
    async def on_message(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if is_thread_reply(event):
            await lifecycle.thread_reply(deps, event["channel"], event["thread_ts"], event["user"])
        elif is_person_message(event) and not event.get("thread_ts"):
            await note_message(deps, event["channel"], event["user"])
        if is_person_message(event) and "<@" in (event.get("text") or ""):
            await offer_mentioned(deps, event["channel"], event.get("thread_ts"), event["user"], event["text"],
                                  bot_user=context.get("bot_user_id"))
        if event.get("channel"):
            await mark_activity(deps, event["channel"], event.get("thread_ts"), user=event.get("user"),
                                bot=bool(event.get("bot_id")), subtype=event.get("subtype"))


def is_person_message(event: dict[str, Any]) -> bool:
    """A message a person wrote (not a bot's, an edit, a join or another subtype)."""
    return bool(not event.get("subtype") and not event.get("bot_id") and event.get("user"))


def is_thread_reply(event: dict[str, Any]) -> bool:
    """A person's reply in a thread (not the thread's parent, a bot or an edit)."""
    thread_ts = event.get("thread_ts")
    return bool(thread_ts and thread_ts != event.get("ts") and not event.get("subtype") and not event.get("bot_id")
                and event.get("user"))
