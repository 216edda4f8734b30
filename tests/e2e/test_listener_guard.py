"""A listener that fails right after acking must still ack (Bolt would otherwise drop the ack)."""

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.registry import Registry


async def test_failure_after_ack_keeps_the_ack_and_is_not_redelivered(slack):
    app = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    reg = Registry(app)
    calls = []

    @reg.command("/boom", "fails after acking")
    async def boom(ack, command):
        calls.append(command["text"])
        await ack()
        raise RuntimeError("downstream failure")

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await asyncio.wait_for(handler.connect_async(), 5)
    try:
        alice = slack.add_user("alice")
        delivery = await slack.slash_command(alice, "/boom", text="x", channel=slack.add_channel("g", members=[alice]))
        assert delivery.envelope_id in {a.envelope_id for a in slack.acks}
        assert calls == ["x"]
    finally:
        await handler.close_async()
