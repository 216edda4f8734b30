"""End-to-end fixtures: a Slack workspace emulator with people in it, and warroom connected to it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.harness import running_warroom
from emulators.slackemu import SlackEmulator


@dataclass
class People:
    alice: str
    bob: str
    general: str


@pytest.fixture
async def slack():
    emu = SlackEmulator()
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
def people(slack) -> People:
    alice = slack.add_user("alice", real_name="Alice Ops", email="alice@example.com", tz="Europe/Paris")
    bob = slack.add_user("bob", real_name="Bob Sec", email="bob@example.com", tz="America/New_York")
    general = slack.add_channel("general", members=[alice, bob], bot_member=True)
    return People(alice, bob, general)


@pytest.fixture
async def warroom(slack, people, db_url):
    async with running_warroom(slack, db_url) as runtime:
        yield runtime
