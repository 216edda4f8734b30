"""Web API methods: each takes (emulator, params) and returns the response fields or raises ApiError."""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING, Any, Callable

from slackemu.blockkit_rules import check_message, check_view
from slackemu.state import Channel, Message, View

if TYPE_CHECKING:
    from slackemu.emulator import SlackEmulator

METHODS: dict[str, Callable[..., Any]] = {}
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
TOPIC_MAX = 250


class ApiError(Exception):
    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []


def method(name: str):
    def register(fn):
        METHODS[name] = fn
        return fn

    return register


def _require(params: dict, key: str) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise ApiError("invalid_arguments", [f"[ERROR] missing required field: {key}"])
    return value


def _channel(emu: SlackEmulator, cid: str | None) -> Channel:
    if not cid:
        raise ApiError("channel_not_found")
    channel = emu.channels.get(cid)
    if channel is None:
        if cid in emu.users:  # posting to a user id opens the DM
            return _open_im(emu, cid)
        raise ApiError("channel_not_found")
    return channel


def _user(emu: SlackEmulator, uid: str | None):
    user = emu.users.get(uid or "")
    if user is None or user.deleted:
        raise ApiError("user_not_found")
    return user


def _open_im(emu: SlackEmulator, uid: str) -> Channel:
    _user(emu, uid)
    existing = emu.dm_channel(uid)
    if existing:
        return existing
    cid = emu.new_id("D")
    channel = Channel(cid, uid, is_im=True, members={uid, emu.bot_user_id})
    emu.channels[cid] = channel
    return channel


def _bot_can_post(emu: SlackEmulator, channel: Channel) -> None:
    if channel.is_archived:
        raise ApiError("is_archived")
    if emu.bot_user_id in channel.members:
        return
    if not channel.is_private and not channel.is_im and emu.chat_write_public:
        return
    raise ApiError("not_in_channel")


def _bot_member(emu: SlackEmulator, channel: Channel) -> None:
    if emu.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")


def _check_blocks(text: str | None, blocks: Any) -> None:
    errors = check_message(text, blocks)
    if errors:
        raise ApiError("msg_too_long" if "/text" in errors[0] and "blocks" not in errors[0] else "invalid_blocks",
                       errors)


def _message(emu: SlackEmulator, channel: Channel, ts: str) -> Message:
    for m in channel.messages:
        if m.ts == ts:
            return m
    raise ApiError("message_not_found")


def _permalink(channel_id: str, ts: str) -> str:
    from slackemu.emulator import DOMAIN

    return f"{DOMAIN}archives/{channel_id}/p{ts.replace('.', '')}"


# ---------------------------------------------------------------------- auth, apps, team
@method("auth.test")
def auth_test(emu: SlackEmulator, params: dict) -> dict:
    from slackemu.emulator import DOMAIN

    return {"url": DOMAIN, "team": "Emulated Workspace", "user": "warroom", "team_id": emu.team_id,
            "user_id": emu.bot_user_id, "bot_id": emu.bot_id, "is_enterprise_install": False}


@method("apps.connections.open")
def apps_connections_open(emu: SlackEmulator, params: dict) -> dict:
    return {"url": f"ws://127.0.0.1:{emu.port}/socket?ticket={emu.new_id('tk')}"}


@method("team.info")
def team_info(emu: SlackEmulator, params: dict) -> dict:
    from slackemu.emulator import DOMAIN

    return {"team": {"id": emu.team_id, "name": "Emulated Workspace", "domain": "emulator", "url": DOMAIN}}


# ---------------------------------------------------------------------- users
@method("users.info")
def users_info(emu: SlackEmulator, params: dict) -> dict:
    return {"user": _user(emu, params.get("user")).to_api()}


@method("users.list")
def users_list(emu: SlackEmulator, params: dict) -> dict:
    return {"members": [u.to_api() for u in emu.users.values()], "response_metadata": {"next_cursor": ""}}


@method("users.lookupByEmail")
def users_lookup_by_email(emu: SlackEmulator, params: dict) -> dict:
    email = _require(params, "email").lower()
    for user in emu.users.values():
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": user.to_api()}
    raise ApiError("users_not_found")


@method("users.profile.get")
def users_profile_get(emu: SlackEmulator, params: dict) -> dict:
    return {"profile": _user(emu, params.get("user")).to_api()["profile"]}


# ---------------------------------------------------------------------- conversations
@method("conversations.create")
def conversations_create(emu: SlackEmulator, params: dict) -> dict:
    name = params.get("name") or ""
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > 80:
        raise ApiError("invalid_name_maxlength")
    if not CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise ApiError("invalid_name_punctuation")
    if emu.channel_by_name(name):
        raise ApiError("name_taken")
    private = str(params.get("is_private", "false")).lower() in ("true", "1")
    cid = emu.new_id("G" if private else "C")
    channel = Channel(cid, name, is_private=private, members={emu.bot_user_id}, creator=emu.bot_user_id)
    emu.channels[cid] = channel
    return {"channel": channel.to_api()}


def _user_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [u.strip() for u in str(value or "").split(",") if u.strip()]


@method("conversations.invite")
def conversations_invite(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    if channel.is_archived:
        raise ApiError("is_archived")
    _bot_member(emu, channel)
    users = _user_list(params.get("users"))
    if not users:
        raise ApiError("no_user")
    for uid in users:
        if uid == emu.bot_user_id:
            raise ApiError("cant_invite_self")
        _user(emu, uid)
    new = [u for u in users if u not in channel.members]
    if not new:
        raise ApiError("already_in_channel")
    for uid in new:
        channel.members.add(uid)
        emu.emit_event_later({"type": "member_joined_channel", "user": uid, "channel": channel.id,
                              "channel_type": "G" if channel.is_private else "C", "team": emu.team_id,
                              "inviter": emu.bot_user_id})
    return {"channel": channel.to_api()}


@method("conversations.kick")
def conversations_kick(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_member(emu, channel)
    uid = _user(emu, params.get("user")).id
    if uid not in channel.members:
        raise ApiError("not_in_channel")
    channel.members.discard(uid)
    emu.emit_event_later({"type": "member_left_channel", "user": uid, "channel": channel.id,
                          "channel_type": "G" if channel.is_private else "C", "team": emu.team_id})
    return {}


@method("conversations.join")
def conversations_join(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    if channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    channel.members.add(emu.bot_user_id)
    return {"channel": channel.to_api()}


@method("conversations.leave")
def conversations_leave(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    if emu.bot_user_id not in channel.members:
        return {"not_in_channel": True}
    channel.members.discard(emu.bot_user_id)
    return {}


def _set_channel_text(field: str):
    """conversations.setTopic / setPurpose: the bot must be in the channel; ≤ 250 chars."""

    def handler(emu: SlackEmulator, params: dict) -> dict:
        channel = _channel(emu, params.get("channel"))
        _bot_member(emu, channel)
        value = params.get(field) or ""
        if len(value) > TOPIC_MAX:
            raise ApiError("too_long")
        setattr(channel, field, value)
        return {"channel": channel.to_api()}

    return handler


METHODS["conversations.setTopic"] = _set_channel_text("topic")
METHODS["conversations.setPurpose"] = _set_channel_text("purpose")


@method("conversations.info")
def conversations_info(emu: SlackEmulator, params: dict) -> dict:
    return {"channel": _channel(emu, params.get("channel")).to_api()}


@method("conversations.members")
def conversations_members(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    return {"members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}


@method("conversations.list")
def conversations_list(emu: SlackEmulator, params: dict) -> dict:
    channels = [c.to_api() for c in emu.channels.values() if not c.is_im]
    return {"channels": channels, "response_metadata": {"next_cursor": ""}}


@method("conversations.open")
def conversations_open(emu: SlackEmulator, params: dict) -> dict:
    users = _user_list(params.get("users"))
    if len(users) != 1:
        raise ApiError("invalid_arguments")
    return {"channel": {"id": _open_im(emu, users[0]).id}}


@method("conversations.archive")
def conversations_archive(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_member(emu, channel)
    if channel.is_archived:
        raise ApiError("already_archived")
    channel.is_archived = True
    return {}


@method("conversations.unarchive")
def conversations_unarchive(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    if not channel.is_archived:
        raise ApiError("not_archived")
    channel.is_archived = False
    return {}


@method("conversations.rename")
def conversations_rename(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_member(emu, channel)
    name = params.get("name") or ""
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > 80:
        raise ApiError("invalid_name_maxlength")
    if not CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    other = emu.channel_by_name(name)
    if other and other.id != channel.id:
        raise ApiError("name_taken")
    channel.name = name
    return {"channel": channel.to_api()}


def _history_visible(emu: SlackEmulator, channel: Channel) -> None:
    if emu.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")


@method("conversations.history")
def conversations_history(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _history_visible(emu, channel)
    inclusive = str(params.get("inclusive", "false")).lower() in ("true", "1")
    latest, oldest = params.get("latest"), params.get("oldest")
    limit = int(params.get("limit") or 100)

    def keep(m: Message) -> bool:
        if m.thread_ts and m.thread_ts != m.ts:
            return False
        if latest and (float(m.ts) > float(latest) or (not inclusive and m.ts == latest)):
            return False
        if oldest and (float(m.ts) < float(oldest) or (not inclusive and m.ts == oldest)):
            return False
        return True

    messages = [m.to_api() for m in reversed(channel.messages) if keep(m)][:limit]
    return {"messages": messages, "has_more": False}


@method("conversations.replies")
def conversations_replies(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _history_visible(emu, channel)
    ts = _require(params, "ts")
    target = _message(emu, channel, ts)
    root = target.thread_ts or target.ts
    thread = [m for m in channel.messages if m.ts == root or m.thread_ts == root]
    return {"messages": [m.to_api() for m in thread], "has_more": False}


# ---------------------------------------------------------------------- chat
@method("chat.postMessage")
def chat_post_message(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_can_post(emu, channel)
    text, blocks = params.get("text"), params.get("blocks")
    if not text and not blocks:
        raise ApiError("no_text")
    _check_blocks(text, blocks)
    thread_ts = params.get("thread_ts")
    if thread_ts:
        _message(emu, channel, thread_ts)
    message = Message(emu.new_ts(), emu.bot_user_id, text or "", blocks, thread_ts=thread_ts, bot_id=emu.bot_id)
    channel.messages.append(message)
    return {"channel": channel.id, "ts": message.ts, "message": message.to_api()}


@method("chat.postEphemeral")
def chat_post_ephemeral(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_can_post(emu, channel)
    user = _user(emu, params.get("user"))
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks = params.get("text"), params.get("blocks")
    if not text and not blocks:
        raise ApiError("no_text")
    _check_blocks(text, blocks)
    ts = emu.new_ts()
    emu.ephemerals.append({"channel": channel.id, "user": user.id, "text": text or "", "blocks": blocks, "ts": ts})
    return {"message_ts": ts}


@method("chat.update")
def chat_update(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "ts"))
    if message.user != emu.bot_user_id:
        raise ApiError("cant_update_message")
    text, blocks = params.get("text"), params.get("blocks")
    _check_blocks(text, blocks)
    if text is not None:
        message.text = text
    if blocks is not None:
        message.blocks = blocks
    message.edited = True
    return {"channel": channel.id, "ts": message.ts, "text": message.text}


@method("chat.delete")
def chat_delete(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "ts"))
    if message.user != emu.bot_user_id:
        raise ApiError("cant_delete_message")
    channel.messages.remove(message)
    return {"channel": channel.id, "ts": message.ts}


@method("chat.getPermalink")
def chat_get_permalink(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "message_ts"))
    return {"channel": channel.id, "permalink": _permalink(channel.id, message.ts)}


# ---------------------------------------------------------------------- views
def _validate_view(view: Any) -> dict:
    errors = check_view(view)
    if errors:
        raise ApiError("invalid_arguments", errors)
    return view


def _take_trigger(emu: SlackEmulator, trigger_id: str | None) -> dict:
    trigger = emu.triggers.get(trigger_id or "")
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger["used"] or time.monotonic() - trigger["created"] > emu.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger["used"] = True
    return trigger


def _view_hash(view: dict) -> str:
    return hashlib.sha1(repr(sorted(view.items())).encode()).hexdigest()[:16] + f".{time.monotonic_ns()}"


def _view_response(emu: SlackEmulator, v: View) -> dict:
    data = dict(v.view)
    data.update({"id": v.id, "team_id": emu.team_id, "hash": v.hash, "app_id": emu.app_id, "bot_id": emu.bot_id,
                 "root_view_id": v.root_view_id, "previous_view_id": v.previous_view_id,
                 "external_id": v.external_id or "", "state": {"values": {}}})
    return {"view": data}


@method("views.open")
def views_open(emu: SlackEmulator, params: dict) -> dict:
    view = _validate_view(_require(params, "view"))
    trigger = _take_trigger(emu, params.get("trigger_id"))
    vid = emu.new_id("V")
    v = View(vid, trigger["user"], "modal", view, hash=_view_hash(view), root_view_id=vid,
             external_id=view.get("external_id"))
    emu.views[vid] = v
    return _view_response(emu, v)


@method("views.push")
def views_push(emu: SlackEmulator, params: dict) -> dict:
    view = _validate_view(_require(params, "view"))
    trigger = _take_trigger(emu, params.get("trigger_id"))
    stack = emu.open_views(trigger["user"])
    if not stack:
        raise ApiError("view_not_found")
    if len(stack) >= 3:
        raise ApiError("push_limit_reached")
    vid = emu.new_id("V")
    v = View(vid, trigger["user"], "modal", view, hash=_view_hash(view), root_view_id=stack[0].root_view_id,
             previous_view_id=stack[-1].id)
    emu.views[vid] = v
    return _view_response(emu, v)


@method("views.update")
def views_update(emu: SlackEmulator, params: dict) -> dict:
    view = _validate_view(_require(params, "view"))
    target = emu.views.get(params.get("view_id") or "")
    if target is None and params.get("external_id"):
        target = next((v for v in emu.views.values() if v.external_id == params["external_id"]), None)
    if target is None or target.state != "open":
        raise ApiError("not_found")
    if params.get("hash") and params["hash"] != target.hash:
        raise ApiError("hash_conflict")
    target.view = view
    target.hash = _view_hash(view)
    return _view_response(emu, target)


@method("views.publish")
def views_publish(emu: SlackEmulator, params: dict) -> dict:
    view = _validate_view(_require(params, "view"))
    if view.get("type") != "home":
        raise ApiError("invalid_arguments", ["[ERROR] views.publish takes a home view [json-pointer:/view/type]"])
    user = _user(emu, params.get("user_id"))
    existing = next((v for v in emu.views.values() if v.type == "home" and v.user == user.id), None)
    if existing:
        existing.view, existing.hash = view, _view_hash(view)
        return _view_response(emu, existing)
    vid = emu.new_id("V")
    v = View(vid, user.id, "home", view, hash=_view_hash(view), root_view_id=vid)
    emu.views[vid] = v
    return _view_response(emu, v)


# ---------------------------------------------------------------------- bookmarks, pins, reactions
@method("bookmarks.add")
def bookmarks_add(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel_id"))
    _bot_member(emu, channel)
    title = _require(params, "title")
    if params.get("type", "link") != "link":
        raise ApiError("invalid_bookmark_type")
    link = _require(params, "link")
    if not str(link).startswith(("http://", "https://")):
        raise ApiError("invalid_link")
    bookmark = {"id": emu.new_id("Bk"), "channel_id": channel.id, "title": title, "link": link, "type": "link",
                "emoji": params.get("emoji")}
    channel.bookmarks.append(bookmark)
    return {"bookmark": bookmark}


@method("bookmarks.list")
def bookmarks_list(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel_id"))
    return {"bookmarks": list(channel.bookmarks)}


@method("pins.add")
def pins_add(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    _bot_member(emu, channel)
    message = _message(emu, channel, _require(params, "timestamp"))
    if message.ts in channel.pins:
        raise ApiError("already_pinned")
    channel.pins.add(message.ts)
    return {}


@method("reactions.add")
def reactions_add(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "timestamp"))
    name = _require(params, "name")
    users = message.reactions.setdefault(name, [])
    if emu.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(emu.bot_user_id)
    return {}


@method("reactions.remove")
def reactions_remove(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "timestamp"))
    name = _require(params, "name")
    users = message.reactions.get(name, [])
    if emu.bot_user_id not in users:
        raise ApiError("no_reaction")
    users.remove(emu.bot_user_id)
    if not users:
        del message.reactions[name]
    return {}


@method("reactions.get")
def reactions_get(emu: SlackEmulator, params: dict) -> dict:
    channel = _channel(emu, params.get("channel"))
    message = _message(emu, channel, _require(params, "timestamp"))
    return {"type": "message", "channel": channel.id, "message": message.to_api()}
