"""Fixtures for signal ingestion over HTTP: warroom running with the signal test config, and a client for it."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from emulators.slackemu import SlackEmulator
from storage.signal_models import SignalInstance
from tests.signals.signal_config import signal_config


@pytest.fixture
async def slack():
    emu = SlackEmulator()
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def warroom(slack, db_url):
    """A running warroom whose worker is stopped (these tests look at what ingestion stored, untouched);
    `runtime.woken` counts how often ingestion woke the worker."""
    async with running_warroom(slack, db_url, signal_config()) as runtime:
        await runtime.signal_worker.stop()
        runtime.woken = 0

        def wake() -> None:
            runtime.woken += 1

        runtime.signal_worker.wake = wake
        yield runtime


@pytest.fixture
async def http(warroom):
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{warroom.http_port}") as session:
        yield session


async def stored(warroom) -> list[SignalInstance]:
    """Every stored instance, read in a fresh session (so only committed rows are seen)."""
    async with warroom.deps.sessions() as session:
        return list((await session.scalars(select(SignalInstance).order_by(SignalInstance.received_at))).all())
