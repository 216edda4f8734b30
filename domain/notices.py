"""What warroom says, as plain data. `modals/messages.py` renders each notice to Block Kit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
class IncidentSummary:
    """Pinned summary posted in a new incident channel."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)  # purpose -> slash command


@dataclass(frozen=True)
class IncidentReported:
    """Ephemeral confirmation to the reporter in the channel they reported from."""

    facts: IncidentFacts
    channel_url: str


@dataclass(frozen=True)
class SetupDelayed:
    """Tells the reporter the incident is stored but its channel is not ready yet."""

    incident_name: str
    title: str
    error: str


@dataclass(frozen=True)
class PlainNotice:
    """A short plain message (errors, refusals, hints)."""

    text: str


Notice = IncidentSummary | IncidentReported | SetupDelayed | PlainNotice


@dataclass(frozen=True)
class TimelineView:
    """One page of an incident's timeline, shown in the reader's time zone."""

    incident_name: str
    entries: list  # list[domain.timeline_entries.TimelineEntry]
    tz: str
    page: int
    pages: int
    command: str
