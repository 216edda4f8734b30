"""What listeners and jobs need, built once by the composition root (bot/runtime.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config.schema import WarroomConfig
from domain.core.aio import AckFirst, Memo
from domain.core.inbox import Inbox
from domain.core.ports import Ports

IncidentWatcher = Callable[["Deps", int, frozenset[str]], Awaitable[None]]
"""Told (deps, incident id, labels of what changed) after an incident update was published."""


SETUP_CONCURRENCY = 64
CATALOG_TTL = 30.0  # seconds


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    config: WarroomConfig
    ports: Ports
    # Concepts ranked above incidents (cases) follow incident changes through these, so the incident
    # flows never import them; the composition root registers them.
    incident_watchers: list[IncidentWatcher] = field(default_factory=list)
    # Channel set-ups running at once. A burst of reports would otherwise all compete for the event
    # loop (and SQLite's write lock) with the listeners that must ack new ones within milliseconds;
    # the others wait their turn, stored and in order.
    setup_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SETUP_CONCURRENCY))
    # Who this process is, for the work it leases (set-ups): `instance` names the replica and stays the
    # same across its restarts (WARROOM_INSTANCE, default the host name); `boot` is new every start.
    instance: str = "warroom"
    boot: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    # The sessions of the work done before a submission's ack (checks, the inbox): a pool of their own.
    ack_sessions: async_sessionmaker[AsyncSession] | None = None
    # Submissions waiting for their ack: background work yields to them (`AckFirst.quiet`).
    ack_first: AckFirst = field(default_factory=AckFirst)
    # What only the config writes (projects and their incident types, priorities, severities: applied at
    # start), as the report form offers it; read again every CATALOG_TTL (`incidents.service.report_choices`).
    catalog: Memo[Any] = field(default_factory=lambda: Memo(CATALOG_TTL))
    _inbox: Inbox | None = None

    @property
    def ack_lane(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the few statements a listener runs before its ack."""
        return self.ack_sessions or self.sessions

    @property
    def inbox(self) -> Inbox:
        """Where submissions are stored before their ack (`domain.core.inbox`)."""
        if self._inbox is None:
            self._inbox = Inbox(self.ack_lane, self.holder)
        return self._inbox

    @property
    def holder(self) -> str:
        """What a lease taken by this process records: `instance#boot`."""
        return f"{self.instance}#{self.boot}"
