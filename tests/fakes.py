"""Recording fake ports: flows run against them in milliseconds, and tests read what was asked.

They keep the rules the real adapters enforce (a taken channel name raises `NameTaken`, an
unknown channel raises `PortError`) so a flow cannot pass by leaning on a fake that accepts all.

`RecordingConversation.crash` simulates the process dying inside a call (`Killed`, which no
`except Exception` stops), before or after the workspace acted on it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.core.notices import Notice
from domain.core.ports import (
    ChannelRef,
    ChatMessage,
    EmailMessage,
    MessageRef,
    NameTaken,
    NullAI,
    NullDocuments,
    NullTickets,
    OnCallPerson,
    PageRequest,
    PortError,
    Ports,
    StepMark,
    UserProfile,
    WorkflowStarted,
)

BOT = "UBOT"  # the bot user of the fake workspace (creator of the channels it makes)


class Killed(BaseException):
    """The process died here: nothing after this point runs, only committed data survives."""


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class RecordingConversation:
    """A ConversationPort that remembers every call and keeps a minimal workspace."""

    users: dict[str, UserProfile] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {name, private, members, archived}
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, Exception] = field(default_factory=dict)  # method -> error to raise once
    # "method" or "method:<an argument>" (a channel id, a user id...) -> "before" | "after" it takes
    # effect: raise Killed, once
    crash: dict[str, str] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _record(self, method: str, **args: Any) -> None:
        self.calls.append(Call(method, args))
        error = self.fail.pop(method, None)
        if error is not None:
            raise error
        self._maybe_killed("before", method)

    def _maybe_killed(self, moment: str, method: str) -> None:
        args = self.calls[-1].args if self.calls and self.calls[-1].method == method else {}
        values = [v for value in args.values() for v in (value if isinstance(value, list) else [value])]
        for key in [*(f"{method}:{v}" for v in values if isinstance(v, str)), method]:
            if self.crash.get(key) == moment:
                del self.crash[key]
                raise Killed(key)

    def _acted(self, method: str) -> None:
        """Called once a method took effect: the process may die before hearing back."""
        self._maybe_killed("after", method)

    def _channel(self, channel_id: str) -> dict[str, Any]:
        if channel_id not in self.channels:
            raise PortError(f"channel_not_found: {channel_id}")
        return self.channels[channel_id]

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    def called(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every call of `method`, in order."""
        return [c.args for c in self.calls if c.method == method]

    def posted(self, notice_type: type[Notice]) -> list[dict[str, Any]]:
        """Every post, ephemeral, DM or update whose notice is a `notice_type`."""
        kinds = ("post", "post_ephemeral", "send_direct", "update")
        return [c.args for c in self.calls if c.method in kinds and isinstance(c.args["notice"], notice_type)]

    async def get_user(self, user_id: str) -> UserProfile:
        self._record("get_user", user_id=user_id)
        return self.users.get(user_id) or UserProfile(user_id=user_id, name=f"user {user_id}")

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        self._record("get_message", channel_id=channel_id, ts=ts)
        return None

    async def react(self, channel_id: str, ts: str, name: str, *, remove: bool = False) -> None:
        self._record("react", channel_id=channel_id, ts=ts, name=name, remove=remove)

    def add_channel(self, name: str, *, creator: str = "UOTHER", archived: bool = False,
                    created: datetime | None = None) -> str:
        """A channel that already exists in the workspace (made by `creator`, at `created`: now by default)."""
        channel_id = f"C{next(self._ids):08d}"
        self.channels[channel_id] = {"name": name, "private": False, "members": {creator}, "archived": archived,
                                     "creator": creator, "messages": [], "created": created or datetime.now(UTC)}
        return channel_id

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages stored in a channel, oldest first: {ts, notice, mark, thread_ts}."""
        return self._channel(channel_id)["messages"]

    async def create_channel(self, name: str, *, private: bool) -> ChannelRef:
        self._record("create_channel", name=name, private=private)
        if any(c["name"] == name for c in self.channels.values()):
            raise NameTaken(name)
        channel_id = f"C{next(self._ids):08d}"
        created = datetime.now(UTC)
        self.channels[channel_id] = {"name": name, "private": private, "members": {BOT}, "archived": False,
                                     "creator": BOT, "messages": [], "created": created}
        self._acted("create_channel")
        return ChannelRef(id=channel_id, name=name, created_at=created)

    async def find_channel(self, name: str) -> ChannelRef | None:
        self._record("find_channel", name=name)
        return next((ChannelRef(cid, c["name"], c.get("created")) for cid, c in self.channels.items()
                     if c["name"] == name and c.get("creator") == BOT and not c["archived"]), None)

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        self._record("invite", channel_id=channel_id, user_ids=list(user_ids))
        self._channel(channel_id)["members"].update(user_ids)
        self._acted("invite")

    async def set_topic(self, channel_id: str, topic: str) -> None:
        self._record("set_topic", channel_id=channel_id, topic=topic)
        self._channel(channel_id)["topic"] = topic
        self._acted("set_topic")

    async def add_bookmark(self, channel_id: str, title: str, link: str, *, if_missing: bool = False) -> None:
        self._record("add_bookmark", channel_id=channel_id, title=title, link=link, if_missing=if_missing)
        self._acted("add_bookmark")

    async def post(self, channel_id: str, notice: Notice, *, thread_ts: str | None = None,
                   mark: StepMark | None = None) -> MessageRef:
        self._record("post", channel_id=channel_id, notice=notice, thread_ts=thread_ts, mark=mark)
        channel = self._channel(channel_id)
        ts = self._ts()
        channel.setdefault("messages", []).append({"ts": ts, "notice": notice, "mark": mark, "thread_ts": thread_ts})
        self._acted("post")
        return MessageRef(channel_id=channel_id, ts=ts, permalink=self.message_link(channel_id, ts))

    async def find_marked(self, channel_id: str, mark: StepMark) -> MessageRef | None:
        self._record("find_marked", channel_id=channel_id, mark=mark)
        found = [m for m in self._channel(channel_id).get("messages", []) if m["mark"] == mark and not m["thread_ts"]]
        if not found:
            return None
        return MessageRef(channel_id, found[-1]["ts"], self.message_link(channel_id, found[-1]["ts"]))

    async def rename_channel(self, channel_id: str, name: str) -> ChannelRef:
        self._record("rename_channel", channel_id=channel_id, name=name)
        if any(c["name"] == name for cid, c in self.channels.items() if cid != channel_id):
            raise NameTaken(name)
        self._channel(channel_id)["name"] = name
        return ChannelRef(id=channel_id, name=name)

    async def pin(self, channel_id: str, ts: str) -> None:
        self._record("pin", channel_id=channel_id, ts=ts)
        self._acted("pin")

    async def post_ephemeral(self, channel_id: str, user_id: str, notice: Notice) -> None:
        self._record("post_ephemeral", channel_id=channel_id, user_id=user_id, notice=notice)
        self._acted("post_ephemeral")

    async def send_direct(self, user_id: str, notice: Notice) -> MessageRef:
        self._record("send_direct", user_id=user_id, notice=notice)
        self._acted("send_direct")
        ts = self._ts()
        return MessageRef(channel_id=f"D{user_id}", ts=ts, permalink=self.message_link(f"D{user_id}", ts))

    async def update(self, channel_id: str, ts: str, notice: Notice) -> None:
        self._record("update", channel_id=channel_id, ts=ts, notice=notice)

    async def archive(self, channel_id: str) -> None:
        self._record("archive", channel_id=channel_id)
        self._channel(channel_id)["archived"] = True

    async def unarchive(self, channel_id: str) -> None:
        self._record("unarchive", channel_id=channel_id)
        self._channel(channel_id)["archived"] = False

    def channel_link(self, channel_id: str) -> str:
        return f"https://example.slack.com/archives/{channel_id}"

    def message_link(self, channel_id: str, ts: str) -> str:
        return f"https://example.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


@dataclass
class RecordingOncall:
    """An OncallPort with a fixed schedule that records pages."""

    schedule: dict[str, list[str]] = field(default_factory=dict)
    pages: list[tuple[str, str, str]] = field(default_factory=list)
    requests: list[PageRequest] = field(default_factory=list)
    fail: list[Exception] = field(default_factory=list)  # raised by the next pages, in order
    crash_after_page: bool = False  # the process dies once the pager has the page, before hearing back

    async def resolve(self, service: str) -> list[str]:
        return list(self.schedule.get(service, []))

    async def on_call(self, service: str) -> list[OnCallPerson]:
        return [OnCallPerson(name=u, user_id=u) for u in self.schedule.get(service, [])]

    async def page(self, service: str, request: PageRequest) -> str:
        self.pages.append(("service", service, request.incident_name))
        self.requests.append(request)
        if self.fail:
            raise self.fail.pop(0)
        if self.crash_after_page:
            self.crash_after_page = False
            raise Killed("oncall.page (after the pager acted)")
        return request.dedup_key

    async def page_person(self, user_id: str, email: str | None, request: PageRequest) -> str:
        self.requests.append(request)
        if self.fail:
            raise self.fail.pop(0)
        self.pages.append(("person", user_id, request.incident_name))
        return request.dedup_key


@dataclass
class RecordingEmail:
    """An EmailPort that keeps what it sends; `crash_after_send` dies once the server accepted a message."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail: list[Exception] = field(default_factory=list)
    crash_after_send: bool = False

    async def send(self, message: EmailMessage) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(message)
        if self.crash_after_send:
            self.crash_after_send = False
            raise Killed("email.send (after the server accepted it)")


@dataclass
class RecordingWorkflows:
    """A WorkflowPort that records each start (instance id, payload); `fail` raises once, `crash` ("before" |
    "after") kills the process around the runner taking the run."""

    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: list[Exception] = field(default_factory=list)
    crash: str | None = None

    async def start(self, workflow: str, instance_id: str, payload: dict[str, Any]) -> WorkflowStarted:
        if self.crash == "before":
            self.crash = None
            raise Killed("workflows.start")
        if self.fail:
            raise self.fail.pop(0)
        self.started.append((instance_id, payload))
        if self.crash == "after":
            self.crash = None
            raise Killed("workflows.start")
        return WorkflowStarted(f"https://runner.example.com/runs/{instance_id}")


def recording_ports(conversation: RecordingConversation | None = None, oncall: RecordingOncall | None = None,
                    workflows: RecordingWorkflows | None = None) -> Ports:
    """Ports whose Slack, on-call and workflow sides record; the other integrations are disabled."""
    return Ports(
        conversation or RecordingConversation(),
        NullTickets(),
        NullDocuments(),
        oncall or RecordingOncall(),
        NullAI(),
        workflows or RecordingWorkflows(),
    )
