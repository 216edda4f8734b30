"""Ports: the small interfaces through which domain flows cause side effects.

`bot/` wires them to real clients (Slack today; Jira, Google, PagerDuty, OpenAI later);
tests wire them to the same adapters pointed at local fakes. Nothing here knows Slack types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.core.notices import Notice


class PortError(Exception):
    """A side effect failed. `code` is the provider's error code (e.g. Slack's `name_taken`)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class NameTaken(PortError):
    """A conversation with that name already exists."""


@dataclass(frozen=True)
class UserProfile:
    user_id: str
    name: str
    email: str | None = None
    tz: str = "UTC"


@dataclass(frozen=True)
class ChatMessage:
    """A message as the chat workspace stores it (thread replies carry their parent's ts)."""

    channel_id: str
    ts: str
    user: str | None
    text: str
    thread_ts: str | None = None
    reactions: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class HistoryMessage:
    """A message as history lists it: `bot` when an app posted it; `subtype` for joins, topic
    changes and the like; a thread parent carries its `latest_reply`."""

    ts: str
    user: str | None
    bot: bool = False
    subtype: str | None = None
    thread_ts: str | None = None
    latest_reply: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    """One page (one API call) of messages, and the cursor of the next page (None: last page)."""

    messages: list[HistoryMessage]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ChannelRef:
    id: str
    name: str
    created_at: datetime | None = None  # when the workspace made it, where known


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str
    permalink: str


@dataclass(frozen=True)
class StepMark:
    """An invisible tag on a message the bot posts for one step of an incident's set-up.

    A step resumed after a crash looks for its mark (`find_marked`) before posting again, since the
    crash may have come after the chat workspace stored the message but before we recorded it.
    """

    incident: str  # the incident's name, e.g. INC-12
    step: str  # e.g. "summary"


class ConversationPort(Protocol):
    """Chat workspace operations (Slack)."""

    async def get_user(self, user_id: str) -> UserProfile: ...

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        """The message at `ts` itself, top-level or thread reply (None if it is gone)."""

    async def history(self, channel_id: str, *, oldest: str | None = None, cursor: str | None = None) -> HistoryPage:
        """One page of the channel's top-level messages newer than `oldest`, newest first."""

    async def replies(self, channel_id: str, thread_ts: str, *, oldest: str | None = None,
                      cursor: str | None = None) -> HistoryPage:
        """One page of a thread (its parent first, then replies newer than `oldest`, oldest first)."""

    async def react(self, channel_id: str, ts: str, name: str, *, remove: bool = False) -> None:
        """Add (or remove) the bot's own reaction; already done is not an error."""

    async def create_channel(self, name: str, *, private: bool) -> ChannelRef:
        """Create a channel; raise `NameTaken` when the name is in use."""

    async def is_private(self, channel_id: str) -> bool:
        """Whether the channel is private (invitation only); asked of Slack, since an admin may convert it."""

    async def find_channel(self, name: str) -> ChannelRef | None:
        """The unarchived channel called `name` that the bot itself created, else None.

        How a resumed set-up recognises the channel an earlier attempt created but never recorded.
        """

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite users; users already in the channel are not an error."""

    async def set_topic(self, channel_id: str, topic: str) -> None: ...

    async def add_bookmark(self, channel_id: str, title: str, link: str, *, if_missing: bool = False) -> None:
        """Add a link bookmark; with `if_missing`, only when no bookmark has that link (one more call)."""

    async def post(self, channel_id: str, notice: Notice, *, thread_ts: str | None = None,
                   mark: StepMark | None = None) -> MessageRef:
        """Post a message, as a reply in the thread of `thread_ts` when given, tagged with `mark`."""

    async def find_marked(self, channel_id: str, mark: StepMark) -> MessageRef | None:
        """The bot's own top-level message tagged `mark` among the channel's recent messages, else None."""

    async def rename_channel(self, channel_id: str, name: str) -> ChannelRef:
        """Rename a channel; raise `NameTaken` when the name is in use."""

    async def pin(self, channel_id: str, ts: str) -> None:
        """Pin a message; already pinned is not an error."""

    async def post_ephemeral(self, channel_id: str, user_id: str, notice: Notice) -> None: ...

    async def send_direct(self, user_id: str, notice: Notice) -> MessageRef: ...

    async def update(self, channel_id: str, ts: str, notice: Notice) -> None:
        """Edit a message the bot posted."""

    async def archive(self, channel_id: str) -> None:
        """Archive a channel; already archived is not an error."""

    async def unarchive(self, channel_id: str) -> None:
        """Unarchive a channel; not archived is not an error."""

    def channel_link(self, channel_id: str) -> str:
        """A URL that opens the channel."""

    def message_link(self, channel_id: str, ts: str) -> str:
        """A permalink to a message."""


@dataclass(frozen=True)
class TicketFields:
    """What a ticket says, in the tracker's own names (priority already mapped)."""

    project_key: str
    issue_type: str
    summary: str
    description: str
    priority: str | None
    labels: tuple[str, ...]


@dataclass(frozen=True)
class TicketRef:
    key: str
    url: str


@dataclass(frozen=True)
class TicketState:
    """A ticket's workflow status and the transitions it offers now (name -> status it leads to)."""

    status: str
    transitions: dict[str, str]


class TicketPort(Protocol):
    """Issue tracker (Jira). Every method raises `PortError` when the tracker fails or is too slow."""

    async def find_ticket(self, project_key: str, label: str) -> TicketRef | None:
        """The oldest ticket of the project carrying `label`, if any."""

    async def create_ticket(self, fields: TicketFields) -> TicketRef: ...

    async def update_ticket(self, key: str, fields: TicketFields) -> None:
        """Set summary, description, priority and labels (the project and issue type stay)."""

    async def ticket_state(self, key: str) -> TicketState: ...

    async def transition_ticket(self, key: str, transition: str) -> None:
        """Take the named workflow transition."""


class DocumentPort(Protocol):
    """Incident documents (Google Docs, later)."""

    async def create_incident_document(self, incident_name: str, title: str) -> str | None: ...

    async def add_report(self, incident_name: str, kind: str, details: dict[str, str]) -> None:
        """Append a report to the incident document (no-op without a document integration)."""


class StoragePort(Protocol):
    """Shared storage folders (Google Drive, later)."""

    async def create_folder(self, incident_name: str) -> str | None: ...


class OncallPort(Protocol):
    """On-call resolution and paging (static schedule, PagerDuty later)."""

    async def resolve(self, service: str) -> list[str]: ...

    async def page(self, service: str, incident_name: str, title: str) -> None: ...

    async def page_person(self, user_id: str, incident_name: str, title: str) -> None:
        """Page one person (e.g. the commander of a priority with `page_commander`)."""


class AIPort(Protocol):
    """Language-model helpers (OpenAI, later)."""

    async def summarize(self, text: str) -> str | None: ...


class NullTickets:
    """No ticket integration: flows check `config.tickets` first, so only a miswired bot calls these."""

    async def find_ticket(self, project_key: str, label: str) -> TicketRef | None:
        return None

    async def create_ticket(self, fields: TicketFields) -> TicketRef:
        raise PortError("tickets_disabled", "no ticket integration is wired")

    async def update_ticket(self, key: str, fields: TicketFields) -> None:
        raise PortError("tickets_disabled", "no ticket integration is wired")

    async def ticket_state(self, key: str) -> TicketState:
        raise PortError("tickets_disabled", "no ticket integration is wired")

    async def transition_ticket(self, key: str, transition: str) -> None:
        raise PortError("tickets_disabled", "no ticket integration is wired")


class NullDocuments:
    async def create_incident_document(self, incident_name: str, title: str) -> str | None:
        return None

    async def add_report(self, incident_name: str, kind: str, details: dict[str, str]) -> None:
        return None


class NullStorage:
    async def create_folder(self, incident_name: str) -> str | None:
        return None


class NullOncall:
    async def resolve(self, service: str) -> list[str]:
        return []

    async def page(self, service: str, incident_name: str, title: str) -> None:
        return None

    async def page_person(self, user_id: str, incident_name: str, title: str) -> None:
        return None


class NullAI:
    async def summarize(self, text: str) -> str | None:
        return None


@dataclass
class Ports:
    """Every side-effect port a flow may use, bundled for passing around."""

    conversation: ConversationPort
    tickets: TicketPort
    documents: DocumentPort
    storage: StoragePort
    oncall: OncallPort
    ai: AIPort

    @classmethod
    def with_conversation(cls, conversation: ConversationPort) -> Ports:
        """Slack wired, every other integration disabled (the default install)."""
        return cls(conversation, NullTickets(), NullDocuments(), NullStorage(), NullOncall(), NullAI())
