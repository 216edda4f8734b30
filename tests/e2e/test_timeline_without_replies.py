"""Slack's docs disagree on whether a bot token may call conversations.replies in channels (the method page
says no, the channels:history scope page lists it). With the emulator refusing it (`missing_scope`), timeline
capture still works: top-level messages through conversations.history, thread replies from the shortcut's
payload; a reaction on a reply is the one thing that cannot be read, and is said to be so once."""

from __future__ import annotations

import logging

from tests.e2e.incident_helpers import ephemerals_for, report
from tests.e2e.test_timeline_capture import CONFIRM, timeline


async def test_capture_works_when_slack_refuses_replies_to_the_bot(slack, people, warroom, caplog):
    slack.bot_replies_in_channels = False
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    root = await slack.post_message(people.alice, channel, "Investigating the load balancer")
    reply = await slack.post_message(people.alice, channel, "Found it: a bad health check", thread_ts=root)
    later = await slack.post_message(people.alice, channel, "Unrelated later message")

    with caplog.at_level(logging.WARNING, logger="bot.slack_conversation"):
        await slack.react(people.alice, channel, root, "stopwatch")
        await slack.wait_for(lambda: CONFIRM in slack.channels[channel].find(root).reactions)
    (event,) = await timeline(warroom, incident.id)
    assert event.description == "Investigating the load balancer", "top-level: read through conversations.history"
    refused = [r for r in caplog.records if "refuses conversations.replies" in r.getMessage()]
    assert len(refused) == 1 and "missing_scope" in refused[0].getMessage()
    replies_calls = len(slack.calls_to("conversations.replies"))

    await slack.message_shortcut(people.alice, "add_to_timeline", channel, reply)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, channel) if "Added" in e["text"]])
    descriptions = {e.description: e for e in await timeline(warroom, incident.id)}
    assert descriptions["Found it: a bad health check"].details["thread_ts"] == root, "from the shortcut's payload"

    await slack.react(people.alice, channel, later, "stopwatch")
    await slack.wait_for(lambda: CONFIRM in slack.channels[channel].find(later).reactions)
    assert "Unrelated later message" in {e.description for e in await timeline(warroom, incident.id)}
    assert len(slack.calls_to("conversations.replies")) == replies_calls, "refused once: not asked again"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
