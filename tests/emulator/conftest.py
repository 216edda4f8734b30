"""Fixtures for the emulator's own tests: a started emulator, a real AsyncWebClient, and a way to
connect a real Bolt AsyncApp over Socket Mode."""

import asyncio
import os

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slackemu import SlackEmulator

for _var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):  # they flip AsyncApp into OAuth mode
    os.environ.pop(_var, None)


@pytest.fixture
async def emu():
    e = SlackEmulator()
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
def client(emu):
    return AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)


@pytest.fixture
async def connect(emu):
    """`await connect(app)`: run a Bolt AsyncApp against the emulator over Socket Mode until teardown."""
    handlers = []

    async def run(app: AsyncApp) -> AsyncSocketModeHandler:
        handler = AsyncSocketModeHandler(app, emu.app_token, ping_interval=0.5)
        handlers.append(handler)
        await asyncio.wait_for(handler.connect_async(), 5)
        await emu.wait_connected()
        return handler

    yield run
    for handler in handlers:
        await handler.close_async()


@pytest.fixture
def app(emu):
    """A Bolt AsyncApp whose client talks to the emulator (listeners are added by the test)."""
    return AsyncApp(client=AsyncWebClient(token=emu.bot_token, base_url=emu.api_url))
