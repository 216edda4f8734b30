"""Listeners that put chat messages on the incident timeline."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager

from domain.deps import Deps
from domain.notices import PlainNotice
from domain.timeline_capture import add_message, remove_message_if_unmarked
from handlers.registry import Registry

SHORTCUT_ID = "add_to_timeline"


def register(reg: Registry, deps: Deps) -> None:
    """Timeline reaction (add/remove) and the "Add to timeline" message shortcut."""
    conv = deps.ports.conversation
    locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    @asynccontextmanager
    async def one_at_a_time(channel: str, ts: str):
        # Events about one message are handled in arrival order: a slow "add" must not land
        # after a quick "remove" of the same message.
        key = (channel, ts)
        async with locks[key]:
            yield
        if not locks[key].locked():
            locks.pop(key, None)

    def is_timeline_reaction(event: dict) -> bool:
        return event.get("reaction") == deps.config.timeline_reaction and event.get("item", {}).get("type") == "message"

    @reg.event("reaction_added")
    async def on_reaction_added(ack, event):
        await ack()
        if is_timeline_reaction(event):
            channel, ts = event["item"]["channel"], event["item"]["ts"]
            async with one_at_a_time(channel, ts):
                await add_message(deps.sessions, conv, channel, ts, event["user"])

    @reg.event("reaction_removed")
    async def on_reaction_removed(ack, event):
        await ack()
        if is_timeline_reaction(event):
            channel, ts = event["item"]["channel"], event["item"]["ts"]
            async with one_at_a_time(channel, ts):
                await remove_message_if_unmarked(deps.sessions, conv, deps.config, channel, ts)

    @reg.message_shortcut(SHORTCUT_ID, "Add to timeline", "Add this message to the incident timeline")
    async def on_shortcut(ack, body):
        await ack()
        channel, user = body["channel"]["id"], body["user"]["id"]
        async with one_at_a_time(channel, body["message"]["ts"]):
            outcome = await add_message(deps.sessions, conv, channel, body["message"]["ts"], user)
        text = {
            "added": "Added to the incident timeline.",
            "duplicate": "That message is already on the incident timeline.",
            "not_incident": "This is not an incident channel: only messages in incident channels go on a timeline.",
            "gone": "That message no longer exists.",
        }[outcome]
        await conv.post_ephemeral(channel, user, PlainNotice(text))
