"""Which signal definitions post their cases to a channel, and what currently silences them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config.schema import WarroomConfig
from domain.config.signals import SignalDefinitionConfig
from domain.core.notices import Notice
from domain.signals.snooze import active_snoozes_by_definition
from storage.types import utcnow


@dataclass(frozen=True)
class SnoozeLine:
    name: str
    until: datetime | None  # None: until removed
    from_config: bool = False
    filter_id: int | None = None  # snoozes made in Slack can be ended from the listing


@dataclass(frozen=True)
class SignalLine:
    """One definition as the listing shows it."""

    name: str
    external_id: str | None
    owner: str
    create_case: bool
    entity_types: list[str]
    runbook: str | None
    snoozes: list[SnoozeLine] = field(default_factory=list)


@dataclass(frozen=True)
class SignalList(Notice):
    """Ephemeral answer to the list-signals command in `channel_id`."""

    channel_id: str
    command: str
    signals: list[SignalLine]
    total_definitions: int


def case_target(config: WarroomConfig, definition: SignalDefinitionConfig) -> str | None:
    """The channel a definition's cases go to: its own conversation_target, else its case type's."""
    return definition.conversation_target or config.cases.type(definition.case_type).conversation_target


def _config_snoozes(config: WarroomConfig, definition: str, now: datetime) -> list[SnoozeLine]:
    return [SnoozeLine(f.name, f.expires_at, from_config=True) for f in config.signals.snoozes_in_force(now, definition)]


async def signals_for_channel(session: AsyncSession, config: WarroomConfig, channel_id: str, command: str = "", *,
                              now: datetime | None = None) -> SignalList:
    """The enabled definitions whose cases go to `channel_id`, each with its snoozes in force at `now` (default: now)."""
    now = now or utcnow()
    targeted = [d for d in config.signals.definitions if d.enabled and case_target(config, d) == channel_id]
    stored = await active_snoozes_by_definition(session, [d.name for d in targeted], now)
    lines = [
        SignalLine(name=d.name, external_id=d.external_id, owner=d.owner, create_case=d.create_case,
                   entity_types=list(d.entity_types), runbook=d.runbook,
                   snoozes=[SnoozeLine(s.name, s.expires_at, filter_id=s.id) for s in stored[d.name]] + _config_snoozes(config, d.name, now))
        for d in targeted
    ]
    return SignalList(channel_id, command, lines, len(config.signals.definitions))
