"""Turn chat messages into timeline events (reaction or message shortcut), and back out again."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import update_contact
from domain.core.deps import Deps
from domain.core.ports import ChatMessage, ConversationPort
from domain.incidents.queries import incident_for_channel
from domain.timeline import record_event
from storage.models import Event

CONFIRM_REACTION = "ballot_box_with_check"


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def message_key(channel_id: str, ts: str) -> str:
    """dedupe_key of the event made from a message: one event per message, however many reactions."""
    return f"slack-message:{channel_id}:{ts}"


def message_time(ts: str) -> datetime:
    """When the message was posted (its Slack ts), not when someone reacted."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


async def _render_mentions(conv: ConversationPort, text: str) -> str:
    ids = list(dict.fromkeys(_MENTION.findall(text)))
    profiles = await asyncio.gather(*(conv.get_user(uid) for uid in ids), return_exceptions=True)
    names = {uid: (p.name if not isinstance(p, BaseException) else uid) for uid, p in zip(ids, profiles, strict=True)}
    return _MENTION.sub(lambda m: "@" + names.get(m[1], m[1]), text)


async def add_message(deps: Deps, channel_id: str, ts: str, *, added_by: str, marked_with: str | None = None,
                      message: ChatMessage | None = None) -> str:
    """Record the message at (channel, ts) on its incident's timeline; returns what happened.

    "added", "duplicate" (already on the timeline), "not_incident", "gone" (message deleted, or a thread reply
    Slack will not let the bot read) or "unmarked" (with `marked_with`: the reaction was removed before this
    ran, e.g. by another process). `message`: the message as a shortcut's payload carries it (not fetched).
    """
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await incident_for_channel(session, channel_id)
    if incident is None:
        return "not_incident"
    if message is None:
        message = await conv.get_message(channel_id, ts)
    if message is None or not message.user:
        return "gone"
    if marked_with and not _still_marked(message, marked_with):
        return "unmarked"
    author, text = await asyncio.gather(conv.get_user(message.user), _render_mentions(conv, message.text))
    async with deps.sessions() as session:
        contact = await update_contact(session, author)
        added = await record_event(
            session,
            incident.id,
            text,
            source=f"Slack message from {author.name}",
            author_id=contact.id,
            started_at=message_time(ts),
            details={"channel": channel_id, "ts": ts, "thread_ts": message.thread_ts, "added_by": added_by,
                     "permalink": conv.message_link(channel_id, ts)},
            dedupe_key=message_key(channel_id, ts),
        )
        await session.commit()
    if added:
        await conv.react(channel_id, ts, CONFIRM_REACTION)
    return "added" if added else "duplicate"


EntryDeleter = Callable[[AsyncSession, str], Awaitable[int]]  # (session, a message's dedupe key) -> rows deleted


async def delete_incident_entries(session: AsyncSession, key: str) -> int:
    """Delete the incident timeline entries made from a message (by its dedupe key); returns how many."""
    result = cast(CursorResult[Any], await session.execute(delete(Event).where(col(Event.dedupe_key) == key)))
    return result.rowcount or 0


async def remove_message_if_unmarked(deps: Deps, channel_id: str, ts: str, *,
                                     delete_entries: EntryDeleter = delete_incident_entries) -> bool:
    """Drop the message's timeline entries (`delete_entries`) once nobody's timeline reaction remains on it.
    Returns whether any was removed."""
    conv = deps.ports.conversation
    message = await conv.get_message(channel_id, ts)
    if message is not None and _still_marked(message, deps.config.timeline_reaction):
        return False
    async with deps.sessions() as session:
        removed = await delete_entries(session, message_key(channel_id, ts))
        await session.commit()
    if not removed:
        return False
    if message is not None:
        await conv.react(channel_id, ts, CONFIRM_REACTION, remove=True)
    return True


def _still_marked(message: ChatMessage, reaction: str) -> bool:
    return bool((message.reactions or {}).get(reaction))
