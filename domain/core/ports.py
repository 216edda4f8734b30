"""Ports: the small interfaces through which domain flows cause side effects.

`bot/` wires them to real clients (Slack, Jira, OpenAI-compatible AI; Google, PagerDuty later);
tests wire them to the same adapters pointed at local fakes. Nothing here knows Slack types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.core.notices import Notice


class PortError(Exception):
    """A side effect failed. `code` is the provider's error code (e.g. Slack's `name_taken`)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


class NameTaken(PortError):
    """A conversation with that name already exists."""


@dataclass(frozen=True)
class UserProfile:
    user_id: str
    name: str
    email: str | None = None
    tz: str = "UTC"
    team: str | None = None  # from the custom profile fields of `profile_fields` (None: not configured or empty)
    department: str | None = None


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
    text: str = ""


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
    # Who it is assigned to: a Jira account id the config names, else the tracker's user with this email.
    # Neither (or no such user): the assignee is left as it is.
    assignee_account_id: str | None = None
    assignee_email: str | None = None


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


@dataclass(frozen=True)
class FileRef:
    """A file or folder in the document store (Google Drive) and a link that opens it."""

    id: str
    url: str


@dataclass(frozen=True)
class DocComment:
    """A comment on a document as the store lists it; `modified` is RFC 3339 (Drive's modifiedTime)."""

    id: str
    content: str
    author_email: str | None
    resolved: bool
    deleted: bool
    modified: str
    url: str


class DocumentPort(Protocol):
    """Incident folders and documents (Google Drive and Docs). Every method raises `PortError` when the
    store fails or is too slow. `key` is an incident-unique mark a file is created with and found by."""

    async def find_file(self, parent_id: str, key: str) -> FileRef | None:
        """The oldest file in `parent_id` created with `key`, if any."""

    async def create_folder(self, parent_id: str, name: str, key: str) -> FileRef: ...

    async def copy_document(self, template_id: str, folder_id: str, name: str, key: str) -> FileRef: ...

    async def fill_document(self, document_id: str, variables: dict[str, str]) -> None:
        """Replace every `{{name}}` of the document with its value."""

    async def append_text(self, document_id: str, text: str) -> None: ...

    async def read_text(self, document_id: str) -> str:
        """The document's text, as plain text."""

    async def share(self, file_id: str, email: str, role: str) -> None:
        """Give `email` access with `role`; already shared is not an error."""

    async def unshare(self, file_id: str, email: str) -> None:
        """Take `email`'s access away; not (or no longer) shared is not an error."""

    async def list_comments(self, document_id: str, *, since: str | None) -> list[DocComment]:
        """Comments modified at or after `since` (all when None), deleted ones included."""

    async def resolve_comment(self, document_id: str, comment_id: str, reply: str, *, resolved: bool) -> None:
        """Reply to a comment, resolving it (or re-opening it)."""


@dataclass(frozen=True)
class BridgeRef:
    id: str
    url: str


class ConferencePort(Protocol):
    """Conference bridges (Google Meet through Calendar). Raises `PortError` when the provider fails."""

    async def create_bridge(self, key: str, title: str, description: str) -> BridgeRef:
        """The bridge made for `key` (an incident-unique mark): created once, found again on a retry."""


@dataclass(frozen=True)
class OnCallPerson:
    """Someone on call for a service: `user_id` is their Slack id when one is known."""

    name: str
    user_id: str | None = None
    email: str | None = None
    level: int = 1  # escalation level (1 = first responder)
    schedule: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """One page: `dedup_key` is tied to the incident and target, so sending it again never pages twice."""

    dedup_key: str
    incident_name: str
    title: str
    link: str  # the incident channel
    priority: str = ""
    details: dict[str, str] | None = None


class OncallPort(Protocol):
    """On-call resolution and paging (static schedule, or PagerDuty)."""

    async def resolve(self, service: str) -> list[str]:
        """Slack ids of the people on call for `service` (to invite)."""

    async def on_call(self, service: str) -> list[OnCallPerson]:
        """Who is on call for `service` now, first level first (to show)."""

    async def page(self, service: str, request: PageRequest) -> str:
        """Page the service's on-call; returns the pager's reference (e.g. its incident id), or ""."""

    async def page_person(self, user_id: str, email: str | None, request: PageRequest) -> str:
        """Page one person (e.g. the commander of a priority with `page_commander`); returns the reference."""


@dataclass(frozen=True)
class EmailMessage:
    """One email to one recipient; `message_id` is fixed when it is stored, so a resend is recognisable."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str


class EmailPort(Protocol):
    """Outgoing email (SMTP)."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver `message`; raise PortError when the server refuses it or cannot be reached."""


class AIPort(Protocol):
    """A chat-completions language model (any OpenAI-compatible server). Raises `PortError` when the server
    refuses, fails or does not answer within its timeout (`code`: `ai_timeout`, `ai_rate_limited`,
    `ai_unauthorized`, `ai_error`, `ai_disabled`). Callers redact and bound the text first
    (`domain/core/ai.py`): whatever is passed here leaves the process."""

    async def complete(self, system: str, prompt: str, *, max_tokens: int) -> str: ...


@dataclass(frozen=True)
class WorkflowStarted:
    """What a workflow runner said when it accepted a run: where to watch it, if it says."""

    weblink: str | None = None


class WorkflowPort(Protocol):
    """Workflow runners (HTTP webhooks). Raises `PortError` when the runner refuses, fails or is too slow."""

    async def start(self, workflow: str, instance_id: str, payload: dict[str, Any]) -> WorkflowStarted:
        """Ask the runner of `workflow` to run; the runner treats a second request for `instance_id` as the same run."""


class NullWorkflows:
    """No workflows configured: nothing should call this."""

    async def start(self, workflow: str, instance_id: str, payload: dict[str, Any]) -> WorkflowStarted:
        raise PortError("workflows_disabled", f"no runner is wired for workflow {workflow!r}")


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


def _disabled(what: str) -> PortError:
    return PortError(f"{what}_disabled", f"no {what} integration is wired")


class NullDocuments:
    """No document integration: flows check `config.google` first, so only a miswired bot calls these."""

    async def find_file(self, parent_id: str, key: str) -> FileRef | None:
        return None

    async def create_folder(self, parent_id: str, name: str, key: str) -> FileRef:
        raise _disabled("documents")

    async def copy_document(self, template_id: str, folder_id: str, name: str, key: str) -> FileRef:
        raise _disabled("documents")

    async def fill_document(self, document_id: str, variables: dict[str, str]) -> None:
        raise _disabled("documents")

    async def append_text(self, document_id: str, text: str) -> None:
        raise _disabled("documents")

    async def read_text(self, document_id: str) -> str:
        raise _disabled("documents")

    async def share(self, file_id: str, email: str, role: str) -> None:
        raise _disabled("documents")

    async def unshare(self, file_id: str, email: str) -> None:
        raise _disabled("documents")

    async def list_comments(self, document_id: str, *, since: str | None) -> list[DocComment]:
        return []

    async def resolve_comment(self, document_id: str, comment_id: str, reply: str, *, resolved: bool) -> None:
        raise _disabled("documents")


class NullConference:
    async def create_bridge(self, key: str, title: str, description: str) -> BridgeRef:
        raise _disabled("conference")


class NullOncall:
    async def resolve(self, service: str) -> list[str]:
        return []

    async def on_call(self, service: str) -> list[OnCallPerson]:
        return []

    async def page(self, service: str, request: PageRequest) -> str:
        return ""

    async def page_person(self, user_id: str, email: str | None, request: PageRequest) -> str:
        return ""


class NullEmail:
    """No email integration: flows check `config.email` first, so only a miswired bot calls this."""

    async def send(self, message: EmailMessage) -> None:
        raise PortError("email_disabled", "no email integration is wired")


class NullAI:
    """No AI integration: flows check `config.ai` first, so only a miswired bot calls this."""

    async def complete(self, system: str, prompt: str, *, max_tokens: int) -> str:
        raise PortError("ai_disabled", "no AI integration is wired")


@dataclass
class Ports:
    """Every side-effect port a flow may use, bundled for passing around."""

    conversation: ConversationPort
    tickets: TicketPort
    documents: DocumentPort
    oncall: OncallPort
    ai: AIPort
    workflows: WorkflowPort = field(default_factory=NullWorkflows)
    email: EmailPort = field(default_factory=NullEmail)
    conference: ConferencePort = field(default_factory=NullConference)

    @classmethod
    def with_conversation(cls, conversation: ConversationPort) -> Ports:
        """Slack wired, every other integration disabled (the default install)."""
        return cls(conversation, NullTickets(), NullDocuments(), NullOncall(), NullAI())
