"""Assigning roles, handing off command, and participants following channel joins and leaves."""

from __future__ import annotations

import logging
import time

from tests.e2e.incident_helpers import (
    ephemerals_for,
    events,
    participant,
    reload,
    report,
    roles,
    without_channel,
)

ASSIGN = "/dispatch-assign-role"


async def open_assign(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, ASSIGN, channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_commander_hand_off(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]
    view = await open_assign(slack, people.alice, incident.channel_id)
    result = await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "commander"})
    assert not (result.ack_payload or {}).get("errors")
    await slack.wait_for(lambda: "Commander: Bob Sec" in channel.topic)
    await slack.wait_for(lambda: any("handed" in m.text for m in channel.messages))
    assert people.bob in channel.members
    dm = await slack.wait_for(lambda: slack.dm_channel(people.bob))
    await slack.wait_for(lambda: any("incident commander (IC)" in m.text for m in dm.messages))
    assert await roles(warroom, incident.id, people.alice) == ["participant", "reporter"]
    assert await roles(warroom, incident.id, people.bob) == ["commander"]
    stored = await reload(warroom, incident.id)
    bob = await participant(warroom, incident.id, people.bob)
    assert stored.commander_id == bob.individual_id
    # The invite's own join event did not turn the new commander into an observer.
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    assert "observer" not in await roles(warroom, incident.id, people.bob)
    assert any(e == "Incident command handed to Bob Sec" for e in await events(warroom, incident.id))

    # Alice is no longer commander: she is refused.
    await slack.slash_command(people.alice, ASSIGN, channel=incident.channel_id)
    refusal = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, incident.channel_id)
                                            if "Only the incident commander" in e["text"]])
    assert f"<@{people.bob}>" in refusal[-1]["text"]


async def test_command_handed_off_in_an_incident_without_a_channel(slack, people, warroom, caplog):
    """A managing command may name an incident whose set-up never created its channel: the hand-off is
    recorded and told by DM, and nothing is sent to the missing channel."""
    incident = await report(slack, warroom, people.alice, people.general)
    await without_channel(warroom, incident.id)
    before = set(slack.views)
    await slack.slash_command(people.alice, ASSIGN, text=incident.name, channel=people.general)
    view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
    result = await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "commander"})
    assert not (result.ack_payload or {}).get("errors")
    await slack.wait_for(lambda: any("incident commander (IC)" in m.text for m in slack.dm_messages(people.bob)))
    await warroom.registry.drain()
    assert await roles(warroom, incident.id, people.bob) == ["commander"]
    assert "Incident command handed to Bob Sec" in await events(warroom, incident.id)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_scribe_may_then_run_privileged_commands(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_assign(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "scribe"})
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: any("is now scribe" in m.text for m in channel.messages))
    assert await roles(warroom, incident.id, people.bob) == ["scribe"]
    view = await open_assign(slack, people.bob, incident.channel_id)
    assert view.view["callback_id"] == "assign_role"


async def test_assign_role_refusals(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.bob, ASSIGN, channel=incident.channel_id)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    await slack.slash_command(people.alice, ASSIGN, channel=people.general)
    refusal = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                            if "incident channel" in e["text"]])
    assert incident.name in refusal[-1]["text"]
    view = await open_assign(slack, people.alice, incident.channel_id)
    result = await slack.submit_view(people.alice, view.id, {"person": slack.bot_user_id, "role": "scribe"})
    assert "person" in result.ack_payload["errors"]


async def test_join_makes_an_observer_and_welcomes(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    welcome = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    assert "Welcome to" in welcome[-1]["text"]
    dm = await slack.wait_for(lambda: slack.dm_channel(people.bob))
    await slack.wait_for(lambda: any("Welcome" in m.text for m in dm.messages))
    assert await roles(warroom, incident.id, people.bob) == ["observer"]

    await slack.leave(people.bob, incident.channel_id)

    async def inactive():
        return (await participant(warroom, incident.id, people.bob)).inactive_at is not None

    await slack.wait_for(inactive)
    assert await roles(warroom, incident.id, people.bob) == []

    await slack.join(people.bob, incident.channel_id)

    async def observer_again():
        return await roles(warroom, incident.id, people.bob) == ["observer"]

    await slack.wait_for(observer_again)
    assert (await participant(warroom, incident.id, people.bob)).inactive_at is None
    await slack.wait_for(lambda: len([m for m in dm.messages if "Welcome" in m.text]) == 2)


async def test_commander_who_leaves_is_invited_back(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]
    await slack.leave(people.alice, incident.channel_id)
    await slack.wait_for(lambda: people.alice in channel.members)
    await slack.wait_for(lambda: any("invited back" in m.text for m in slack.dm_messages(people.alice)))
    assert "commander" in await roles(warroom, incident.id, people.alice)
    assert (await participant(warroom, incident.id, people.alice)).inactive_at is None


async def test_joins_outside_incident_channels_are_ignored(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    other = slack.add_channel("random", members=[people.alice], bot_member=True)
    ack = await slack.emit_event({"type": "member_joined_channel", "user": people.bob, "channel": other,
                                  "channel_type": "C", "team": slack.team_id})
    assert ack is not None, "every subscribed event is acked"
    await slack.join(people.bob, incident.channel_id)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    assert not ephemerals_for(slack, people.bob, other)
    assert await roles(warroom, incident.id, people.bob) == ["observer"]


async def test_a_join_slack_delivers_after_the_leave_that_followed_it_changes_nothing(slack, people, warroom):
    """Slack does not promise event order: the join caused by an invite can reach warroom after the person
    left again. It must not make them a participant again (in a restricted incident, that would give a
    person who left the incident's folder back)."""
    incident = await report(slack, warroom, people.alice, people.general)
    joined_at = f"{time.time():.6f}"
    await slack.join(people.bob, incident.channel_id)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    await slack.leave(people.bob, incident.channel_id)

    async def inactive():
        return (await participant(warroom, incident.id, people.bob)).inactive_at is not None

    await slack.wait_for(inactive)
    welcomes = len(ephemerals_for(slack, people.bob, incident.channel_id))
    late = {"type": "member_joined_channel", "user": people.bob, "channel": incident.channel_id,
            "channel_type": "C", "team": slack.team_id, "event_ts": joined_at}
    assert (await slack.emit_event(late)) is not None
    await warroom.registry.drain()
    assert (await participant(warroom, incident.id, people.bob)).inactive_at is not None
    assert await roles(warroom, incident.id, people.bob) == []
    assert len(ephemerals_for(slack, people.bob, incident.channel_id)) == welcomes

    await slack.join(people.bob, incident.channel_id)  # a real return still counts

    async def observer_again():
        return await roles(warroom, incident.id, people.bob) == ["observer"]

    await slack.wait_for(observer_again)
