"""Shared pieces of the Web API handlers: the registry, errors, lookups and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.slackemu.blockkit_rules import check_message
from emulators.slackemu.state import Channel, Message, User, Workspace

METHODS: dict[str, Callable[..., Any]] = {}


class ApiError(Exception):
    """A Slack API error: `{"ok": false, "error": code}` (+ response_metadata.messages)."""

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []


def method(name: str):
    """Register a handler under Web API method `name`."""

    def register(fn):
        METHODS[name] = fn
        return fn

    return register


def require(params: dict, key: str) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise ApiError("invalid_arguments", [f"[ERROR] missing required field: {key}"])
    return value


def flag(params: dict, key: str, default: bool = False) -> bool:
    value = params.get(key)
    if value is None or value == "":
        return default
    return str(value).lower() in ("true", "1")


def limit_of(params: dict, default: int, maximum: int = 1000) -> int:
    try:
        value = int(params.get("limit") or default)
    except (TypeError, ValueError):
        raise ApiError("invalid_limit") from None
    return max(1, min(value, maximum))


def paginate(items: list, params: dict, default: int = 100) -> tuple[list, str]:
    """A page of `items` per `cursor`/`limit`, and the next cursor ("" on the last page)."""
    limit = limit_of(params, default)
    cursor = params.get("cursor") or ""
    try:
        start = int(cursor.removeprefix("dGVhbTpD")) if cursor else 0
    except ValueError:
        raise ApiError("invalid_cursor") from None
    page = items[start:start + limit]
    more = start + limit < len(items)
    return page, (f"dGVhbTpD{start + limit}" if more else "")


def user(emu: Workspace, uid: Any, *, allow_deleted: bool = False) -> User:
    found = emu.users.get(str(uid or ""))
    if found is None or (found.deleted and not allow_deleted):
        raise ApiError("user_not_found")
    return found


def open_im(emu: Workspace, uid: str) -> Channel:
    """The IM between the bot and `uid`, created on first use."""
    user(emu, uid)
    existing = emu.dm_channel(uid)
    if existing:
        return existing
    channel = Channel(emu.new_id("D"), uid, is_im=True, members={uid, emu.bot_user_id})
    emu.channels[channel.id] = channel
    return channel


def channel(emu: Workspace, ref: Any, *, for_post: bool = False) -> Channel:
    """Resolve a channel id; `for_post` (chat.*) also takes `#name`/name, and a user id (their DM).

    A private channel the bot is not in is invisible (`channel_not_found`), except to chat.* which
    answer `not_in_channel`.
    """
    ref = str(ref or "")
    if not ref:
        raise ApiError("channel_not_found")
    found = emu.channels.get(ref)
    if found is None and for_post and ref in emu.users:
        return open_im(emu, ref)
    if found is None and for_post:
        found = emu.channel_by_name(ref.removeprefix("#"))
    if found is None:
        raise ApiError("channel_not_found")
    if (found.is_private or found.is_im) and emu.bot_user_id not in found.members and not for_post:
        raise ApiError("channel_not_found")
    return found


def bot_can_post(emu: Workspace, ch: Channel) -> None:
    """chat.postMessage rules: archived refused; non-members need chat:write.public (public only)."""
    if ch.is_archived:
        raise ApiError("is_archived")
    if emu.bot_user_id in ch.members:
        return
    if not ch.is_private and not ch.is_im and emu.chat_write_public:
        return
    raise ApiError("not_in_channel")


def bot_member(emu: Workspace, ch: Channel) -> None:
    if emu.bot_user_id not in ch.members:
        raise ApiError("not_in_channel")


def not_archived(ch: Channel) -> None:
    if ch.is_archived:
        raise ApiError("is_archived")


def message(ch: Channel, ts: Any) -> Message:
    found = ch.find(str(ts or ""))
    if found is None:
        raise ApiError("message_not_found")
    return found


def check_blocks(text: Any, blocks: Any) -> None:
    """Slack's checks of a message's text and blocks: msg_too_long / invalid_blocks."""
    if blocks is not None and isinstance(blocks, str):
        raise ApiError("invalid_blocks_format")
    errors = check_message(text if isinstance(text, str) else None, blocks)
    if not errors:
        return
    if all("json-pointer:/text]" in e for e in errors):
        raise ApiError("msg_too_long")
    raise ApiError("invalid_blocks", [e for e in errors if "json-pointer:/text]" not in e])


def user_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [u.strip() for u in str(value or "").split(",") if u.strip()]
