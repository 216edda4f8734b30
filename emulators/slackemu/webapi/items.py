"""bookmarks.*, pins.*, reactions.*."""

from __future__ import annotations

import re

from emulators.slackemu.state import Workspace
from emulators.slackemu.webapi.common import ApiError, bot_member, channel, message, method, not_archived, require

EMOJI_NAME = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")


@method("bookmarks.add")
def bookmarks_add(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel_id"))
    bot_member(emu, ch)
    title = require(params, "title")
    if require(params, "type") != "link":
        raise ApiError("invalid_bookmark_type")
    link = str(require(params, "link"))
    if not link.startswith(("http://", "https://")):
        raise ApiError("invalid_link")
    bookmark = {"id": emu.new_id("Bk"), "channel_id": ch.id, "title": title, "link": link, "type": "link",
                "emoji": params.get("emoji") or ""}
    ch.bookmarks.append(bookmark)
    return {"bookmark": bookmark}


@method("bookmarks.list")
def bookmarks_list(emu: Workspace, params: dict) -> dict:
    return {"bookmarks": list(channel(emu, params.get("channel_id")).bookmarks)}


@method("bookmarks.remove")
def bookmarks_remove(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel_id"))
    bid = require(params, "bookmark_id")
    found = next((b for b in ch.bookmarks if b["id"] == bid), None)
    if found is None:
        raise ApiError("not_found")
    ch.bookmarks.remove(found)
    return {}


@method("pins.add")
def pins_add(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    not_archived(ch)
    bot_member(emu, ch)
    m = message(ch, require(params, "timestamp"))
    if m.ts in ch.pins:
        raise ApiError("already_pinned")
    ch.pins.add(m.ts)
    return {}


@method("pins.remove")
def pins_remove(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "timestamp"))
    if m.ts not in ch.pins:
        raise ApiError("no_pin")
    ch.pins.discard(m.ts)
    return {}


@method("pins.list")
def pins_list(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    return {"items": [{"type": "message", "channel": ch.id, "message": m.to_api()}
                      for m in ch.messages if m.ts in ch.pins]}


def _reaction_target(emu: Workspace, params: dict):
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "timestamp"))
    name = str(require(params, "name"))
    if not EMOJI_NAME.match(name):
        raise ApiError("invalid_name")  # e.g. ":eyes:" with colons, or spaces
    return ch, m, name


def _reaction_event(emu: Workspace, kind: str, ch, m, name: str) -> None:
    if emu.bot_user_id in ch.members:
        emu.emit_event_later({"type": kind, "user": emu.bot_user_id, "reaction": name, "item_user": m.user,
                              "item": {"type": "message", "channel": ch.id, "ts": m.ts}})


@method("reactions.add")
def reactions_add(emu: Workspace, params: dict) -> dict:
    ch, m, name = _reaction_target(emu, params)
    not_archived(ch)
    users = m.reactions.setdefault(name, [])
    if emu.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(emu.bot_user_id)
    _reaction_event(emu, "reaction_added", ch, m, name)
    return {}


@method("reactions.remove")
def reactions_remove(emu: Workspace, params: dict) -> dict:
    ch, m, name = _reaction_target(emu, params)
    users = m.reactions.get(name, [])
    if emu.bot_user_id not in users:
        raise ApiError("no_reaction")
    users.remove(emu.bot_user_id)
    if not users:
        del m.reactions[name]
    _reaction_event(emu, "reaction_removed", ch, m, name)
    return {}


@method("reactions.get")
def reactions_get(emu: Workspace, params: dict) -> dict:
    ch = channel(emu, params.get("channel"))
    m = message(ch, require(params, "timestamp"))
    return {"type": "message", "channel": ch.id, "message": m.to_api()}
