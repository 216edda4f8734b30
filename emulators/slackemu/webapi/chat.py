"""chat.*: posting, ephemeral messages, updates, deletes, permalinks."""

from __future__ import annotations

import re

from emulators.slackemu.state import DOMAIN, Channel, Message, Workspace
from emulators.slackemu.webapi.common import (
    ApiError,
    bot_can_post,
    channel,
    check_blocks,
    message,
    method,
    require,
    user,
)

CHANNEL_TYPES = {"D": "im", "G": "group", "C": "channel"}
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]{1,255}$")


def permalink(channel_id: str, ts: str) -> str:
    return f"{DOMAIN}archives/{channel_id}/p{ts.replace('.', '')}"


def _content(params: dict) -> tuple[str | None, list | None]:
    text, blocks = params.get("text"), params.get("blocks")
    if text is not None and not isinstance(text, str):
        text = str(text)
    if not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    check_blocks(text, blocks)
    return text, blocks


def bot_posted(emu: Workspace, ch: Channel, m: Message) -> None:
    """Echo the bot's own message as a `message` event, as Slack does (Bolt acks and skips it)."""
    if emu.bot_user_id not in ch.members:
        return
    event = {"type": "message", "user": m.user, "bot_id": emu.bot_id, "app_id": emu.app_id, "text": m.text,
             "ts": m.ts, "channel": ch.id, "channel_type": CHANNEL_TYPES[ch.type_code], "team": emu.team_id,
             "event_ts": m.ts}
    if m.blocks is not None:
        event["blocks"] = m.blocks
    if m.thread_ts:
        event["thread_ts"] = m.thread_ts
        parent = ch.find(m.thread_ts)
        if parent:
            event["parent_user_id"] = parent.user
    emu.emit_event_later(event)


def _metadata(params: dict) -> dict | None:
    """Message metadata: `{"event_type": "<name>", "event_payload": {...}}` (sent as JSON)."""
    value = params.get("metadata")
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise ApiError("invalid_metadata_format")
    event_type, payload = value.get("event_type"), value.get("event_payload")
    if not isinstance(event_type, str) or not EVENT_TYPE.match(event_type) or not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": payload}


@method("chat.postMessage")
def chat_post_message(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"), for_post=True)
    bot_can_post(emu, ch)
    text, blocks = _content(params)
    metadata = _metadata(params)
    thread_ts = str(params.get("thread_ts") or "") or None
    if thread_ts:
        message(ch, thread_ts)
    m = Message(emu.new_ts(), emu.bot_user_id, text or "", blocks, thread_ts=thread_ts, bot_id=emu.bot_id,
                metadata=metadata)
    ch.messages.append(m)
    bot_posted(emu, ch, m)
    return {"channel": ch.id, "ts": m.ts, "message": m.to_api(metadata=True)}


@method("chat.postEphemeral")
def chat_post_ephemeral(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"), for_post=True)
    bot_can_post(emu, ch)
    u = user(emu, params.get("user"))
    if u.id not in ch.members:
        raise ApiError("user_not_in_channel")
    text, blocks = _content(params)
    ts = emu.new_ts()
    emu.ephemerals.append({"channel": ch.id, "user": u.id, "text": text or "", "blocks": blocks, "ts": ts})
    return {"message_ts": ts}


@method("chat.update")
def chat_update(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "ts"))
    if m.user != emu.bot_user_id:
        raise ApiError("cant_update_message")
    text, blocks = _content(params)
    metadata = _metadata(params)
    if text is not None:
        m.text = text
    if blocks is not None:
        m.blocks = blocks or None
    if metadata is not None:
        m.metadata = metadata
    m.edited = True
    return {"channel": ch.id, "ts": m.ts, "text": m.text, "message": m.to_api(metadata=True)}


@method("chat.delete")
def chat_delete(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "ts"))
    if m.user != emu.bot_user_id:
        raise ApiError("cant_delete_message")
    ch.messages.remove(m)
    ch.pins.discard(m.ts)
    return {"channel": ch.id, "ts": m.ts}


@method("chat.getPermalink")
def chat_get_permalink(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "message_ts"))
    return {"channel": ch.id, "permalink": permalink(ch.id, m.ts)}
