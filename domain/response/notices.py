"""Notices."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.core.notices import Notice
from domain.incidents.notices import IncidentFacts


@dataclass(frozen=True)
class CommanderHandoff(Notice):
    name: str
    previous: str | None
    new: str
    actor: str


@dataclass(frozen=True)
class RoleAssigned(Notice):
    name: str
    user: str
    role: str
    actor: str


@dataclass(frozen=True)
class CommanderGuide(Notice):
    """DM to a new incident commander."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Welcome(Notice):
    """Ephemeral in the channel and DM to every new participant."""

    facts: IncidentFacts
    commands: dict[str, str] = field(default_factory=dict)
    conference_url: str | None = None  # the incident's video call, once it exists


@dataclass(frozen=True)
class CommanderReinvited(Notice):
    name: str
    channel_id: str


@dataclass(frozen=True)
class ReinvitedForOpenTasks(Notice):
    """DM to someone who left an incident channel while holding open tasks (and was invited back)."""

    name: str
    channel_id: str
    open_tasks: list[str]  # their descriptions


@dataclass(frozen=True)
class JoinedFromAnnouncement(Notice):
    """Answer to the announcement's Join button."""

    channel_id: str
    already: bool  # was in the channel already


@dataclass(frozen=True)
class EngagementSuggestion(Notice):
    """External contacts matched by the engagement rules, suggested to the channel."""

    name: str
    contacts: list[tuple[str, str]]  # (name, email)


@dataclass(frozen=True)
class OncallEngaged(Notice):
    name: str
    service: str
    users: list[str]
    paged: bool
    actor: str
