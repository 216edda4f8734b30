"""The Slack adapter's look-ups that let a resumed set-up recognise what a dead attempt made."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_conversation import SlackConversation
from domain.core.notices import PlainNotice
from domain.core.ports import StepMark
from emulators.slackemu import Message


def adapter(slack) -> SlackConversation:
    return SlackConversation(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))


async def test_find_channel_returns_only_an_unarchived_channel_the_bot_created(slack, people):
    conv = adapter(slack)
    assert await conv.find_channel("inc-7-db") is None
    theirs = slack.add_channel("inc-7-theirs", creator=people.alice)
    made = await conv.create_channel("inc-7-db", private=True)
    assert await conv.find_channel("inc-7-db") == made
    assert await conv.find_channel("inc-7-theirs") is None and theirs in slack.channels
    await conv.archive(made.id)
    assert await conv.find_channel("inc-7-db") is None


async def test_find_channel_pages_through_the_workspace(slack, people):
    for n in range(1200):
        slack.add_channel(f"filler-{n}", creator=people.alice)
    conv = adapter(slack)
    made = await conv.create_channel("inc-8-late", private=False)
    assert await conv.find_channel("inc-8-late") == made
    assert len(slack.calls_to("conversations.list")) == 2


async def test_find_marked_finds_the_bots_own_tagged_message(slack, people):
    conv = adapter(slack)
    channel = (await conv.create_channel("inc-9-api", private=False)).id
    mark = StepMark("INC-9", "summary")
    assert await conv.find_marked(channel, mark) is None
    await conv.post(channel, PlainNotice("untagged"))
    posted = await conv.post(channel, PlainNotice("the summary"), mark=mark)
    await conv.post(channel, PlainNotice("another step"), mark=StepMark("INC-9", "other"))
    forged = Message(slack.new_ts(), people.alice, "not the bot's", metadata=slack.channels[channel].find(posted.ts).metadata)
    slack.channels[channel].messages.append(forged)
    found = await conv.find_marked(channel, mark)
    assert found is not None and found.ts == posted.ts
    assert slack.channels[channel].find(posted.ts).metadata == {
        "event_type": "warroom_incident_step", "event_payload": {"incident": "INC-9", "step": "summary"}}
    assert await conv.find_marked(channel, StepMark("INC-10", "summary")) is None
