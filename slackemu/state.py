"""Workspace state kept by the emulator: users, channels, messages, views, and logs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False

    @property
    def tz_offset(self) -> int:
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "tz_offset": self.tz_offset,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.real_name,
                "email": self.email,
            },
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

    def to_api(self) -> dict:
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.bot_id:
            data["bot_id"] = self.bot_id
        if self.reactions:
            data["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in self.reactions.items()]
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

    def find(self, ts: str) -> Message | None:
        return next((m for m in self.messages if m.ts == ts), None)

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "created": self.created,
            "creator": self.creator,
            "num_members": len(self.members),
            "topic": {"value": self.topic},
            "purpose": {"value": self.purpose},
        }


@dataclass
class View:
    id: str
    user: str
    type: str
    view: dict
    state: str = "open"  # open | closed
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    external_id: str | None = None

    @property
    def callback_id(self) -> str | None:
        return self.view.get("callback_id")

    @property
    def private_metadata(self) -> str:
        return self.view.get("private_metadata", "")


@dataclass
class ApiCall:
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


@dataclass
class Delivery:
    """What the driver returns once the app acked an envelope."""

    envelope_id: str
    ack_payload: dict | None
    latency: float
    trigger_id: str | None = None
    response_url: str | None = None
