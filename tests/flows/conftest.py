"""Flow fixtures: domain flows on a real migrated database with recording fake ports (no Slack)."""

from __future__ import annotations

import pytest

from domain.config.apply import apply_config
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from tests.fakes import RecordingConversation, RecordingOncall, recording_ports


@pytest.fixture
def conversation() -> RecordingConversation:
    return RecordingConversation()


@pytest.fixture
def oncall() -> RecordingOncall:
    return RecordingOncall()


@pytest.fixture
def config() -> WarroomConfig:
    return WarroomConfig()


@pytest.fixture
async def deps(session_factory, config, conversation, oncall) -> Deps:
    async with session_factory() as session:
        await apply_config(session, config)
        await session.commit()
    return Deps(sessions=session_factory, config=config, ports=recording_ports(conversation, oncall))
