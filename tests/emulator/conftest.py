import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slackemu import SlackEmulator


@pytest.fixture
async def emu():
    e = SlackEmulator()
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
def client(emu):
    return AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
