"""What listeners and jobs need, built once by the composition root (bot/runtime.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config.schema import WarroomConfig
from domain.core.ports import Ports

IncidentWatcher = Callable[["Deps", int, frozenset[str]], Awaitable[None]]
"""Told (deps, incident id, labels of what changed) after an incident update was published."""


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    config: WarroomConfig
    ports: Ports
    # Concepts ranked above incidents (cases) follow incident changes through these, so the incident
    # flows never import them; the composition root registers them.
    incident_watchers: list[IncidentWatcher] = field(default_factory=list)
