"""conversations.*: channel lifecycle, membership, topic/purpose, history."""

from __future__ import annotations

import re

from emulators.slackemu.state import Channel, Message, Workspace
from emulators.slackemu.webapi.common import (
    ApiError,
    bot_member,
    channel,
    flag,
    message,
    method,
    not_archived,
    open_im,
    paginate,
    require,
    user,
    user_list,
)

NAME_CHARS = re.compile(r"^[a-z0-9_-]+$")
NAME_MAX = 80
TOPIC_MAX = 250
PURPOSE_MAX = 250


def check_name(name: str) -> None:
    """Slack's channel-name rules (conversations.create / rename)."""
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > NAME_MAX:
        raise ApiError("invalid_name_maxlength")
    if not NAME_CHARS.match(name):
        raise ApiError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise ApiError("invalid_name_punctuation")


def _joined(emu: Workspace, ch: Channel, uid: str, inviter: str | None = None) -> None:
    """Add a member; the app hears member_joined_channel if the bot is in the channel."""
    ch.members.add(uid)
    event = {"type": "member_joined_channel", "user": uid, "channel": ch.id, "channel_type": ch.type_code,
             "team": emu.team_id}
    if inviter:
        event["inviter"] = inviter
    if emu.bot_user_id in ch.members:
        emu.emit_event_later(event)


def _left(emu: Workspace, ch: Channel, uid: str) -> None:
    was_visible = emu.bot_user_id in ch.members
    ch.members.discard(uid)
    if was_visible:
        emu.emit_event_later({"type": "member_left_channel", "user": uid, "channel": ch.id,
                              "channel_type": ch.type_code, "team": emu.team_id})


@method("conversations.create")
def conversations_create(emu: Workspace, params: dict) -> dict:
    name = str(params.get("name") or "")
    check_name(name)
    if emu.channel_by_name(name):
        raise ApiError("name_taken")
    private = flag(params, "is_private")
    ch = Channel(emu.new_id("G" if private else "C"), name, is_private=private, creator=emu.bot_user_id)
    emu.channels[ch.id] = ch
    _joined(emu, ch, emu.bot_user_id)
    return {"channel": ch.to_api(emu.bot_user_id)}


@method("conversations.invite")
def conversations_invite(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    if ch.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    not_archived(ch)
    bot_member(emu, ch)
    users = user_list(params.get("users"))
    if not users:
        raise ApiError("no_user")
    if len(users) > 1000:
        raise ApiError("too_many_users")
    for uid in users:
        if uid == emu.bot_user_id:
            raise ApiError("cant_invite_self")
        user(emu, uid)
    new = [u for u in dict.fromkeys(users) if u not in ch.members]
    if not new:
        raise ApiError("already_in_channel")
    for uid in new:
        _joined(emu, ch, uid, inviter=emu.bot_user_id)
    return {"channel": ch.to_api(emu.bot_user_id)}


@method("conversations.kick")
def conversations_kick(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    bot_member(emu, ch)
    uid = user(emu, params.get("user")).id
    if uid == emu.bot_user_id:
        raise ApiError("cant_kick_self")
    if uid not in ch.members:
        raise ApiError("not_in_channel")
    _left(emu, ch, uid)
    return {}


@method("conversations.join")
def conversations_join(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    if ch.is_private or ch.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    not_archived(ch)
    if emu.bot_user_id in ch.members:
        return {"channel": ch.to_api(emu.bot_user_id), "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]}}
    _joined(emu, ch, emu.bot_user_id)
    return {"channel": ch.to_api(emu.bot_user_id)}


@method("conversations.leave")
def conversations_leave(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    if ch.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    not_archived(ch)
    if emu.bot_user_id not in ch.members:
        return {"not_in_channel": True}
    _left(emu, ch, emu.bot_user_id)
    return {}


def _set_channel_text(field: str, maximum: int):
    """conversations.setTopic / setPurpose: the bot must be in the (unarchived) channel."""

    def handler(emu: Workspace, params: dict) -> dict:
        ch = channel(emu, params.get("channel"))
        not_archived(ch)
        bot_member(emu, ch)
        value = str(params.get(field) or "")
        if len(value) > maximum:
            raise ApiError("too_long")
        setattr(ch, field, value)
        return {"channel": ch.to_api(emu.bot_user_id)} if field == "topic" else {field: value}

    return handler


method("conversations.setTopic")(_set_channel_text("topic", TOPIC_MAX))
method("conversations.setPurpose")(_set_channel_text("purpose", PURPOSE_MAX))


@method("conversations.info")
def conversations_info(emu: Workspace, params: dict) -> dict:
    return {"channel": channel(emu, params.get("channel")).to_api(emu.bot_user_id)}


@method("conversations.members")
def conversations_members(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    page, cursor = paginate(sorted(ch.members), params)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@method("conversations.list")
def conversations_list(emu: Workspace, params: dict) -> dict:
    """Public channels by default; `types` may add private_channel (the bot's own) and im."""
    types = set(str(params.get("types") or "public_channel").split(","))
    unknown = types - {"public_channel", "private_channel", "im", "mpim"}
    if unknown:
        raise ApiError("invalid_types")
    exclude_archived = flag(params, "exclude_archived")

    def listed(c: Channel) -> bool:
        if exclude_archived and c.is_archived:
            return False
        if c.is_im:
            return "im" in types
        if c.is_private:
            return "private_channel" in types and emu.bot_user_id in c.members
        return "public_channel" in types

    page, cursor = paginate([c for c in emu.channels.values() if listed(c)], params)
    return {"channels": [c.to_api(emu.bot_user_id) for c in page], "response_metadata": {"next_cursor": cursor}}


@method("conversations.open")
def conversations_open(emu: Workspace, params: dict) -> dict:
    if params.get("channel"):
        ch = channel(emu, params["channel"])
        return {"channel": {"id": ch.id}}
    users = user_list(params.get("users"))
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) != 1:
        raise ApiError("not_enough_users" if not users else "method_not_supported_for_channel_type")
    ch = open_im(emu, users[0])
    return {"channel": ch.to_api(emu.bot_user_id) if flag(params, "return_im") else {"id": ch.id}}


@method("conversations.archive")
def conversations_archive(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    if ch.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    if ch.name == "general":
        raise ApiError("cant_archive_general")
    bot_member(emu, ch)
    if ch.is_archived:
        raise ApiError("already_archived")
    ch.is_archived = True
    return {}


@method("conversations.unarchive")
def conversations_unarchive(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    if not ch.is_archived:
        raise ApiError("not_archived")
    ch.is_archived = False
    return {}


@method("conversations.rename")
def conversations_rename(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    not_archived(ch)
    bot_member(emu, ch)
    name = str(params.get("name") or "")
    check_name(name)
    other = emu.channel_by_name(name)
    if other and other.id != ch.id:
        raise ApiError("name_taken")
    ch.name = name
    return {"channel": ch.to_api(emu.bot_user_id)}


def _readable(emu: Workspace, ch: Channel) -> None:
    if emu.bot_user_id not in ch.members:
        raise ApiError("not_in_channel")


def _window(messages: list[Message], params: dict) -> list[Message]:
    inclusive = flag(params, "inclusive")
    latest, oldest = params.get("latest"), params.get("oldest")

    def keep(m: Message) -> bool:
        t = float(m.ts)
        if latest and (t > float(latest) or (not inclusive and m.ts == str(latest))):
            return False
        if oldest and (t < float(oldest) or (not inclusive and m.ts == str(oldest))):
            return False
        return True

    return [m for m in messages if keep(m)]


@method("conversations.history")
def conversations_history(emu: Workspace, params: dict) -> dict:
    """Top-level messages, newest first (thread replies only via conversations.replies)."""
    ch = channel(emu, params.get("channel"))
    _readable(emu, ch)
    top = [m for m in ch.messages if not m.thread_ts or m.thread_ts == m.ts]
    items = list(reversed(_window(top, params)))
    page, cursor = paginate(items, params)
    metadata = flag(params, "include_all_metadata")
    return {"messages": [m.to_api(ch.replies(m.ts), metadata=metadata) for m in page], "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor}}


@method("conversations.replies")
def conversations_replies(emu: Workspace, params: dict) -> dict:
    """The thread holding `ts` (its parent or any reply): parent first, then replies oldest first."""
    ch = channel(emu, params.get("channel"))
    if not emu.bot_replies_in_channels and not ch.is_im:
        raise ApiError("missing_scope")
    _readable(emu, ch)
    target = message(ch, require(params, "ts"))
    root = (ch.find(target.thread_ts) if target.thread_ts else None) or target
    thread = [root] + ch.replies(root.ts)
    if params.get("oldest") or params.get("latest"):
        thread = _window(thread, params)
    page, cursor = paginate(thread, params, default=1000)
    metadata = flag(params, "include_all_metadata")
    return {"messages": [m.to_api(ch.replies(m.ts) if m is root else None, metadata=metadata) for m in page],
            "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}
