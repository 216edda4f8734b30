"""What the incident command center says, as plain data (rendered by modals/command_messages.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.notices import IncidentFacts


@dataclass(frozen=True)
class IncidentRef:
    name: str
    title: str
    status: str
    channel_id: str | None
    role: str | None = None  # the reader's role, when shown to a participant


@dataclass(frozen=True)
class NotInIncidentChannel:
    """An incident-only command was run elsewhere: say so and list the runner's incidents."""

    command: str
    incidents: list[IncidentRef]


@dataclass(frozen=True)
class NotAllowed:
    """Refusal naming who may run the command."""

    command: str
    who_can: list[str]  # Slack user ids
    admins: bool


@dataclass(frozen=True)
class IncidentChanged:
    """One "what changed" message after an update."""

    name: str
    actor: str  # Slack user id
    changes: list[tuple[str, str, str]]  # (field, old, new)


@dataclass(frozen=True)
class ClosingSummary:
    facts: IncidentFacts
    resolution: str | None
    duration: str


@dataclass(frozen=True)
class CommanderHandoff:
    name: str
    previous: str | None
    new: str
    actor: str


@dataclass(frozen=True)
class RoleAssigned:
    name: str
    user: str
    role: str
    actor: str


@dataclass(frozen=True)
class CommanderGuide:
    """DM to a new incident commander."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Welcome:
    """Ephemeral in the channel and DM to every new participant."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommanderReinvited:
    name: str
    channel_id: str


@dataclass(frozen=True)
class IncidentList:
    incidents: list[IncidentRef]
    project: str | None = None


@dataclass(frozen=True)
class Announcement:
    """Announcement in a notification channel, edited in place on every change."""

    facts: IncidentFacts
    allow_join: bool


@dataclass(frozen=True)
class EngagementSuggestion:
    """External contacts matched by the engagement rules, suggested to the channel."""

    name: str
    contacts: list[tuple[str, str]]  # (name, email)


@dataclass(frozen=True)
class OncallEngaged:
    name: str
    service: str
    users: list[str]
    paged: bool
    actor: str
