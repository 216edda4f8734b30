"""Listeners that put chat messages on the incident timeline."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.chat import capture_message, uncapture_message
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.core.ports import ChatMessage
from domain.timeline import TimelineEventAdded, TimelineView, add_manual_event, parse_command_text, timeline_page
from handlers.incident_context import incident_here, say, still_allowed
from handlers.registry import Registry, Submission
from modals.timeline import CALLBACK_ID, add_event_modal, parse_add_event

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
    async def on_reaction_added(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if is_timeline_reaction(event):
            channel, ts = event["item"]["channel"], event["item"]["ts"]
            async with one_at_a_time(channel, ts):
                await capture_message(deps, channel, ts, added_by=event["user"], marked_with=event["reaction"])

    @reg.event("reaction_removed")
    async def on_reaction_removed(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if is_timeline_reaction(event):
            channel, ts = event["item"]["channel"], event["item"]["ts"]
            async with one_at_a_time(channel, ts):
                await uncapture_message(deps, channel, ts)

    @reg.message_shortcut(SHORTCUT_ID, "Add to timeline", "Add this message to the incident (or case) timeline")
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        channel, user, payload = body["channel"]["id"], body["user"]["id"], body["message"]
        # The payload carries the message, thread replies included: nothing to fetch (and nothing Slack may refuse).
        message = ChatMessage(channel, payload["ts"], payload.get("user"), payload.get("text") or "",
                              payload.get("thread_ts"))
        async with one_at_a_time(channel, payload["ts"]):
            outcome = await capture_message(deps, channel, payload["ts"], added_by=user, message=message)
        text = {
            "added": "Added to the incident timeline.",
            "duplicate": "That message is already on the incident timeline.",
            "case_added": "Added to the case timeline.",
            "case_duplicate": "That message is already on the case timeline.",
            "not_incident": "This is not an incident channel: only messages in incident channels (or in a case's "
                            "channel or card thread) go on a timeline.",
            "gone": "That message no longer exists.",
        }[outcome]
        await conv.post_ephemeral(channel, user, PlainNotice(text))


def register_commands(reg: Registry, deps: Deps) -> None:
    """`/…-timeline [page]` and `/…-add-timeline-event [DESC … DATE … TIME …]`."""
    conv = deps.ports.conversation
    commands = deps.config.commands

    @reg.command(commands.timeline, "Show this incident's timeline", "[page]")
    async def on_timeline(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is None:
            return
        text = (body.get("text") or "").strip()
        page = int(text) if text.isdigit() else 1
        profile = await conv.get_user(body["user_id"])
        async with deps.sessions() as session:
            entries, pages = await timeline_page(session, incident.id, page)
        await say(respond, TimelineView(incident.name, entries, profile.tz, min(max(page, 1), pages), pages,
                                        commands.timeline))

    @reg.command(commands.add_timeline_event, "Add an event to the timeline", "[DESC text DATE yyyy-mm-dd TIME hh:mm]")
    async def on_add_event(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is None:
            return
        profile = await conv.get_user(body["user_id"])
        view = add_event_modal(parse_command_text(body.get("text") or ""), user_tz=profile.tz,
                               now=datetime.now(UTC), incident_id=incident.id, channel_id=body["channel_id"])
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @reg.submission(CALLBACK_ID, parse_add_event, check=still_allowed(deps, lambda form: form["incident"], managing=False))
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form = sub.form
        async with deps.sessions() as session:
            first = await add_manual_event(session, form["incident"], sub.user_id, form["description"], form["when"],
                                           dedupe_key=f"manual:{sub.view_id}")
        if first:  # said in the channel, so everyone there sees what went on the timeline
            await conv.post(form["channel"], TimelineEventAdded(sub.user_id, form["description"], form["when"]))
