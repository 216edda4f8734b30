"""What the incident command center says, as plain data (rendered by modals/command_messages.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.core.notices import Notice


@dataclass(frozen=True)
class IncidentRef:
    name: str
    title: str
    status: str
    channel_id: str | None
    role: str | None = None  # the reader's role, when shown to a participant
    tags: tuple[str, ...] = ()
    response_cost: str | None = None  # "$1,234.50", once costed (and costs are enabled)
    ticket_key: str | None = None  # its Jira ticket, once created
    ticket_url: str | None = None


@dataclass(frozen=True)
class NotInIncidentChannel(Notice):
    """An incident-only command was run elsewhere: say so and list the runner's incidents."""

    command: str
    incidents: list[IncidentRef]


@dataclass(frozen=True)
class NotAllowed(Notice):
    """Refusal naming who may run the command."""

    command: str
    who_can: list[str]  # Slack user ids
    admins: bool


@dataclass(frozen=True)
class IncidentChanged(Notice):
    """One "what changed" message after an update."""

    name: str
    actor: str  # Slack user id
    changes: list[tuple[str, str, str]]  # (field, old, new)


@dataclass(frozen=True)
class ClosingSummary(Notice):
    facts: IncidentFacts
    resolution: str | None
    duration: str
    response_cost: str | None = None
    custom_costs: list[str] = field(default_factory=list)  # "Lost revenue: $5,000.00"
    ai_summary: str | None = None  # written by AI at close (ai: close_summary)
    ai_note: str | None = None  # instead of it: "Thinking…" while it is written, or why there is none


@dataclass(frozen=True)
class IncidentList(Notice):
    incidents: list[IncidentRef]
    project: str | None = None
    tag: str | None = None  # listed incidents carry this tag


@dataclass(frozen=True)
class IncidentFacts:
    """The key fields of an incident as people see them."""

    name: str
    title: str
    description: str
    status: str
    visibility: str
    incident_type: str
    priority: str
    severity: str
    reporter: str  # Slack user id
    commander: str | None  # Slack user id
    channel_id: str | None
    created_at: datetime
    project: str


@dataclass(frozen=True)
class IncidentSummary(Notice):
    """Pinned summary posted in a new incident channel."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)  # purpose -> slash command
    tags: list[str] = field(default_factory=list)  # "Type: tag" (or "tag" for a legacy one)
    response_cost: str | None = None  # e.g. "$1,234.50", once the cost job has run
    custom_costs: list[str] = field(default_factory=list)  # "Lost revenue: $5,000.00", as entered
    ticket_key: str | None = None  # the incident's tracker ticket, once it exists
    ticket_url: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (title, url): incident document, video call...


@dataclass(frozen=True)
class IncidentReported(Notice):
    """Ephemeral confirmation to the reporter in the channel they reported from."""

    facts: IncidentFacts
    channel_url: str


@dataclass(frozen=True)
class SetupDelayed(Notice):
    """Tells the reporter the incident is stored but its channel is not ready yet."""

    incident_name: str
    title: str
    error: str
