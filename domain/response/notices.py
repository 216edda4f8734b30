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


@dataclass(frozen=True)
class CommanderReinvited(Notice):
    name: str
    channel_id: str


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
