"""Workspace state kept by the emulator: users, channels, messages, views, and logs."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulators.slackemu.faults import Faults, Hang, Injection

DOMAIN = "https://emulator.slack.test/"
TEAM_NAME = "Emulated Workspace"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    display_name: str = ""  # empty unless the person set one, as is common in Slack
    fields: dict[str, str] = field(default_factory=dict)  # custom profile fields: id (Xf…) -> value

    @property
    def tz_offset(self) -> int:
        """Seconds east of UTC right now (DST-aware), as Slack reports it."""
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def to_api(self, team_id: str = "") -> dict:
        profile: dict[str, Any] = {"real_name": self.real_name, "display_name": self.display_name,
                                   "real_name_normalized": self.real_name,
                                   "display_name_normalized": self.display_name}
        if self.email and not self.is_bot:
            profile["email"] = self.email
        return {
            "id": self.id, "team_id": team_id, "name": self.name, "real_name": self.real_name,
            "deleted": self.deleted, "is_bot": self.is_bot, "is_app_user": False, "tz": self.tz,
            "tz_label": self.tz, "tz_offset": self.tz_offset, "profile": profile,
        }


@dataclass
class Message:
    ts: str
    user: str
    text: str = ""
    blocks: list[dict] | None = None
    thread_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: bool = False
    bot_id: str | None = None
    metadata: dict | None = None  # {"event_type": ..., "event_payload": {...}}, as posted
    subtype: str | None = None  # "channel_join" and the like: not something a person wrote

    def to_api(self, replies: list[Message] | None = None, *, metadata: bool = False) -> dict:
        """The message as the Web API returns it; `replies` (for a thread parent) adds reply counts.

        `metadata`: include the message's metadata (history and replies do only when asked with
        `include_all_metadata`).
        """
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.bot_id:
            data["bot_id"] = self.bot_id
        if self.subtype:
            data["subtype"] = self.subtype
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.ts}
        if replies:
            data.update({"thread_ts": self.ts, "reply_count": len(replies), "latest_reply": replies[-1].ts,
                         "reply_users": sorted({r.user for r in replies})})
        if self.reactions:
            data["reactions"] = [{"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()]
        if metadata and self.metadata is not None:
            data["metadata"] = dict(self.metadata)
        return data


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    bookmarks: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)
    creator: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def type_code(self) -> str:
        """The `channel_type` of events: C (public), G (private), D (IM)."""
        return "D" if self.is_im else ("G" if self.is_private else "C")

    def find(self, ts: str) -> Message | None:
        return next((m for m in self.messages if m.ts == ts), None)

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == ts and m.ts != ts]

    def to_api(self, viewer: str | None = None) -> dict:
        """The conversation object; `viewer` (the bot user) sets `is_member`."""
        if self.is_im:
            other = next((m for m in sorted(self.members) if m != viewer), viewer)
            return {"id": self.id, "is_im": True, "user": other, "created": self.created, "is_org_shared": False}
        return {
            "id": self.id, "name": self.name, "name_normalized": self.name,
            "is_channel": not self.is_private, "is_group": self.is_private, "is_im": False, "is_mpim": False,
            "is_private": self.is_private, "is_archived": self.is_archived, "is_general": self.name == "general",
            "created": self.created, "creator": self.creator or "", "is_member": viewer in self.members,
            "num_members": len(self.members),
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


@dataclass
class View:
    id: str
    user: str
    type: str  # modal | home
    view: dict
    state: str = "open"  # open | closed
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    external_id: str | None = None
    # What the person typed into inputs and has not submitted: {block_id: {action_id: value}}. Slack's client
    # keeps it across views.update for inputs whose block_id and action_id stay the same (`keep_typed`).
    typed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def keep_typed(self) -> None:
        """After the view was replaced: forget what was typed into inputs it no longer has."""
        inputs = {(b.get("block_id"), (b.get("element") or {}).get("action_id"))
                  for b in self.view.get("blocks", []) if b.get("type") == "input"}
        self.typed = {bid: kept for bid, actions in self.typed.items()
                      if (kept := {aid: v for aid, v in actions.items() if (bid, aid) in inputs})}

    @property
    def callback_id(self) -> str | None:
        return self.view.get("callback_id")

    @property
    def private_metadata(self) -> str:
        return self.view.get("private_metadata", "")


@dataclass
class ApiCall:
    """One Web API request as the emulator saw it (injected failures included)."""

    method: str
    params: dict
    ok: bool
    error: str | None
    ts: float
    duration: float = 0.0
    status: int = 200


@dataclass
class Ack:
    envelope_id: str
    payload: dict | None
    latency: float

    @property
    def latency_seconds(self) -> float:
        return self.latency


@dataclass
class Delivery:
    """What the driver returns once the app acked an envelope."""

    envelope_id: str
    ack_payload: dict | None
    latency: float
    trigger_id: str | None = None
    response_url: str | None = None
    sent: bool = True  # False: Slack's client refused the input, the app never saw it


class Workspace:
    """One workspace with one installed app: its people, channels, views and logs, and their set-up.

    This is what the Web API handlers and the driver read and change; SlackEmulator serves it.
    """

    def __init__(self, team_id: str = "T0001", trigger_ttl: float = 3.0) -> None:
        self.team_id = team_id
        self.trigger_ttl = trigger_ttl
        self.bot_token = "xoxb-emulator-bot"
        self.app_token = "xapp-emulator-app"
        self.app_id = "A0001"
        self.bot_id = "B0001"
        self.bot_user_id = "UBOT0001"
        self.chat_write_public = True  # the app's manifest asks for chat:write.public
        self.subscribed_events: set[str] | None = None  # None: deliver every event type
        self.client_validation = True  # Slack's client checks modal inputs before submitting
        # conversations.replies answers a bot token in channels (the channels:history scope page), or refuses
        # it with missing_scope outside DMs (what the method page says): tests try both.
        self.bot_replies_in_channels = True
        self.client_rejections: list[dict] = []  # submissions Slack's client refused (never sent to the app)
        self.users: dict[str, User] = {self.bot_user_id: User(self.bot_user_id, "warroom", "warroom", is_bot=True)}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, View] = {}
        self.ephemerals: list[dict] = []
        self.calls: list[ApiCall] = []
        self.faults = Faults()
        self.triggers: dict[str, dict] = {}
        self.response_urls: dict[str, dict] = {}
        self.port: int | None = None  # where the workspace is served, once started
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Pass as `AsyncWebClient(base_url=...)`."""
        return f"{self.base_url}/api/"

    def emit_event_later(self, event: dict) -> None:
        """Deliver an event caused by an API call without blocking that call.

        A bare workspace has no app to tell; the emulator delivers it over Socket Mode.
        """

    # ------------------------------------------------------------------ ids and set-up
    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):07d}"

    def new_ts(self) -> str:
        """A message ts: unique and increasing, like Slack's."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def add_user(self, name: str, *, real_name: str | None = None, email: str | None = None, tz: str = "UTC",
                 is_bot: bool = False, display_name: str = "", fields: dict[str, str] | None = None) -> str:
        """Add a person (or bot) to the workspace (`fields`: custom profile field id -> value); returns the user id."""
        uid = self.new_id("U")
        self.users[uid] = User(uid, name, real_name or name, email, tz, is_bot, display_name=display_name,
                               fields=dict(fields or {}))
        return uid

    def add_channel(self, name: str, *, members: list[str] | None = None, is_private: bool = False,
                    bot_member: bool = True, creator: str | None = None) -> str:
        """Add a channel (no events); the bot is a member unless `bot_member=False`.

        `creator` is who made it, as conversations.info/list report it (the bot's user id makes it
        look like a channel the app created itself).
        """
        unknown = [m for m in [*(members or []), *([creator] if creator else [])] if m not in self.users]
        if unknown:
            raise ValueError(f"unknown users {unknown}")
        cid = self.new_id("G" if is_private else "C")
        channel = Channel(cid, name, is_private=is_private, members=set(members or []), creator=creator)
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[cid] = channel
        return cid

    # ------------------------------------------------------------------ inspection
    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def dm_channel(self, user_id: str) -> Channel | None:
        """The IM between the bot and `user_id`, if one was opened."""
        return next((c for c in self.channels.values() if c.is_im and user_id in c.members), None)

    def dm_messages(self, user_id: str) -> list[Message]:
        """Messages in the IM between the bot and `user_id`; none while no IM was opened."""
        dm = self.dm_channel(user_id)
        return list(dm.messages) if dm else []

    def open_views(self, user: str) -> list[View]:
        """The user's open modals, oldest (root) first."""
        return [v for v in self.views.values() if v.user == user and v.type == "modal" and v.state == "open"]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ faults
    def inject(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
               times: int = 1, when: Callable[[dict], bool] | None = None) -> None:
        """Make the next `times` calls of `method` ("*": any) fail with HTTP `status` or Slack `error`;
        `when`: only calls whose arguments pass it."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 200 and error is None:
            raise ValueError("inject() needs an HTTP error status or a Slack error code")
        self.faults.injections.append(Injection(method, status, error, retry_after, times, when))

    def hang(self, method: str, *, after: bool = False, times: int = 1,
             when: Callable[[dict], bool] | None = None) -> Hang:
        """Make the next `times` calls of `method` ("*": any) never answer, leaving the app mid-call.

        `after=True`: the call takes effect first (Slack did it, the reply was lost). `when`: only
        calls whose arguments pass it. Await `hang.wait_reached()` to know the app is stuck in the
        call; `hang.release()` (or `stop()`) ends the request.
        """
        hang = Hang(method, after, times, when)
        self.faults.hangs.append(hang)
        return hang

    # ------------------------------------------------------------------ response_url
    def new_response_url(self, user: str, channel: str | None, message_ts: str | None = None) -> str:
        """A response_url for an interaction by `user` in `channel` (on message `message_ts`, if any)."""
        rid = self.new_id("R")
        self.response_urls[rid] = {"user": user, "channel": channel, "message_ts": message_ts, "uses": 0,
                                   "created": time.monotonic()}
        return f"{self.base_url}/respond/{rid}"

    def respond(self, target: dict, body: dict) -> None:
        """Apply a response (response_url POST or a slash command's ack payload) to the workspace."""
        text, blocks = body.get("text"), body.get("blocks")
        channel = self.channels.get(target.get("channel") or "")
        original = channel.find(target["message_ts"]) if channel and target.get("message_ts") else None
        if body.get("delete_original"):
            if original is not None:
                channel.messages.remove(original)
            return
        if body.get("replace_original") and original is not None:
            original.text, original.blocks = text or "", blocks
            return
        shown = target.get("ephemeral")  # the ephemeral message this response_url posted last, if any
        if body.get("replace_original") and shown is not None and any(e is shown for e in self.ephemerals):
            shown.update(text=text or "", blocks=blocks)
            return
        if body.get("response_type") == "in_channel" and channel is not None:
            message = Message(self.new_ts(), self.bot_user_id, text or "", blocks,
                              thread_ts=body.get("thread_ts"), bot_id=self.bot_id)
            channel.messages.append(message)
            return
        shown = {"channel": target.get("channel"), "user": target["user"], "text": text or "", "blocks": blocks,
                 "ts": self.new_ts()}
        self.ephemerals.append(shown)
        target["ephemeral"] = shown
