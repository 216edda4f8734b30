"""What listeners and jobs need, built once by the composition root (bot/runtime.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config.schema import WarroomConfig
from domain.core.ports import Ports


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    config: WarroomConfig
    ports: Ports
