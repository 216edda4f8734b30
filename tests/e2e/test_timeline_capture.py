"""People put messages on the incident timeline by reacting, or from the message menu."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import Event, IndividualContact
from tests.e2e.incident_helpers import ephemerals_for, report

CONFIRM = "ballot_box_with_check"


async def timeline(warroom, incident_id: int) -> list[Event]:
    async with warroom.deps.sessions() as session:
        rows = await session.execute(
            select(Event).where(Event.incident_id == incident_id, Event.source.like("Slack message from %"))
        )
        return list(rows.scalars())


async def test_reaction_adds_the_message_with_its_author_time_and_names(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    await slack.join(people.bob, channel)
    ts = await slack.post_message(people.bob, channel, f"Rolled back deploy 42, <@{people.alice}> please confirm")
    await slack.react(people.alice, channel, ts, "stopwatch")
    await slack.wait_for(lambda: CONFIRM in slack.channels[channel].find(ts).reactions)

    (event,) = await timeline(warroom, incident.id)
    assert event.description == "Rolled back deploy 42, @Alice Ops please confirm"
    assert event.source == "Slack message from Bob Sec"
    assert event.started_at == datetime.fromtimestamp(float(ts), tz=UTC)
    async with warroom.deps.sessions() as session:
        author = await session.get(IndividualContact, event.author_id)
    assert author.slack_user_id == people.bob and author.email == "bob@example.com"
    assert event.details["added_by"] == people.alice


async def test_a_thread_reply_is_recorded_not_the_channels_latest_message(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    root = await slack.post_message(people.alice, channel, "Investigating the load balancer")
    reply = await slack.post_message(people.alice, channel, "Found it: a bad health check", thread_ts=root)
    await slack.post_message(people.alice, channel, "Unrelated later message")
    await slack.react(people.alice, channel, reply, "stopwatch")
    await slack.wait_for(lambda: CONFIRM in slack.channels[channel].find(reply).reactions)
    (event,) = await timeline(warroom, incident.id)
    assert event.description == "Found it: a bad health check"
    assert event.details["thread_ts"] == root


async def test_many_reactions_record_once_and_removing_the_last_removes_it(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    await slack.join(people.bob, channel)
    ts = await slack.post_message(people.alice, channel, "Failover complete")
    await slack.react(people.alice, channel, ts, "stopwatch")
    await slack.react(people.bob, channel, ts, "stopwatch")
    await slack.wait_for(lambda: CONFIRM in slack.channels[channel].find(ts).reactions)
    assert len(await timeline(warroom, incident.id)) == 1

    await slack.unreact(people.alice, channel, ts, "stopwatch")
    assert len(await timeline(warroom, incident.id)) == 1, "bob's reaction still marks it"
    await slack.unreact(people.bob, channel, ts, "stopwatch")
    await slack.wait_for(lambda: CONFIRM not in slack.channels[channel].find(ts).reactions)
    assert await timeline(warroom, incident.id) == []


async def test_other_emoji_and_other_channels_are_ignored(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    in_incident = await slack.post_message(people.alice, incident.channel_id, "just chatting")
    await slack.react(people.alice, incident.channel_id, in_incident, "eyes")
    outside = await slack.post_message(people.alice, people.general, "not an incident")
    await slack.react(people.alice, people.general, outside, "stopwatch")
    assert await timeline(warroom, incident.id) == []
    assert CONFIRM not in slack.channels[people.general].find(outside).reactions


async def test_message_shortcut_adds_once_and_explains_refusals(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    ts = await slack.post_message(people.alice, channel, "Customer comms sent")
    await slack.message_shortcut(people.alice, "add_to_timeline", channel, ts)
    await slack.wait_for(lambda: ephemerals_for(slack, people.alice, channel))
    await slack.message_shortcut(people.alice, "add_to_timeline", channel, ts)
    await slack.wait_for(lambda: len(ephemerals_for(slack, people.alice, channel)) >= 2)
    texts = [e["text"] for e in ephemerals_for(slack, people.alice, channel)]
    assert texts[-2:] == ["Added to the incident timeline.", "That message is already on the incident timeline."]
    assert len(await timeline(warroom, incident.id)) == 1

    outside = await slack.post_message(people.alice, people.general, "hello")
    await slack.message_shortcut(people.alice, "add_to_timeline", people.general, outside)
    await slack.wait_for(lambda: ephemerals_for(slack, people.alice, people.general)[-1]["text"].startswith("This is not"))
