"""Google Meet bridge: created during set-up beside the other steps, bookmarked, in the summary and the welcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.response.documents import ensure_conference
from jobs import resume_setups
from storage.google_models import IncidentResource
from tests.e2e.google_helpers import google_config, google_emulator, linked, make_due, resource
from tests.e2e.incident_helpers import ephemerals_for, report


@pytest.fixture
async def google(tmp_path, monkeypatch):
    async with google_emulator(tmp_path, monkeypatch) as emu:
        yield emu


@pytest.fixture
async def warroom(slack, people, db_url, google):
    async with running_warroom(slack, db_url, google_config(google, documents=False, conference=True)) as runtime:
        yield runtime


def all_events(google) -> list[dict]:
    return [e for events in google.events.values() for e in events.values()]


async def test_meet_link_is_bookmarked_and_shown_in_the_summary_and_the_welcome(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "conference")
    (event,) = all_events(google)
    assert row.url == event["hangoutLink"] and row.url.startswith("https://meet.google.com/")
    assert event["conferenceData"]["conferenceSolution"]["key"]["type"] == "hangoutsMeet"
    assert event["summary"] == f"{incident.name}: {incident.title}"
    assert warroom.deps.ports.conversation.channel_link(incident.channel_id) in event["description"]
    assert list(google.events) == ["primary"]

    channel = slack.channels[incident.channel_id]
    assert {"title": "Video call", "link": row.url} in [{"title": b["title"], "link": b["link"]} for b in channel.bookmarks]
    assert row.url in str(channel.find(incident.summary_message_ts).blocks)

    await slack.join(people.bob, incident.channel_id)
    welcome = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, incident.channel_id)
                                            if "Welcome" in e["text"]])
    assert row.url in str(welcome[-1]["blocks"])
    assert not google.files or all(not f.app_properties for f in google.files.values()), "no documents configured"


async def test_a_lost_answer_or_a_second_attempt_never_makes_a_second_bridge(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    first = await linked(slack, warroom, incident.id, "conference")
    # The answer was lost (the id never stored): the retry's insert is refused as a duplicate, and the event read.
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentResource))).scalar_one()
        row.external_id = row.url = None
        row.linked = False
        await session.commit()
    await ensure_conference(warroom.deps, incident.id)
    again = await linked(slack, warroom, incident.id, "conference")
    assert len(all_events(google)) == 1 and again.url == first.url
    assert google.operations("events.") == ["events.insert", "events.insert", "events.get"]
    assert len([b for b in slack.channels[incident.channel_id].bookmarks if b["title"] == "Video call"]) == 1


async def test_calendar_down_leaves_the_channel_ready_and_the_bridge_comes_later(slack, people, google, warroom):
    google.fail("events.insert", 500, times=1000)
    incident = await report(slack, warroom, people.alice, people.general)

    async def failed():
        row = await resource(warroom, incident.id, "conference")
        return row if row is not None and row.error and row.claimed_until is None else None

    row = await slack.wait_for(failed, timeout=15)
    assert "500" in row.error and incident.setup_state == "ready"
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: [m for m in channel.messages if "video call" in m.text and "could not" in m.text])
    google.heal()
    await make_due(warroom, incident.id, "conference")
    await resume_setups.run(warroom.deps)
    row = await linked(slack, warroom, incident.id, "conference")
    assert len(all_events(google)) == 1
    await slack.wait_for(lambda: [m for m in channel.messages if "video call" in m.text and "is ready" in m.text])


async def test_without_conference_config_no_bridge_and_the_welcome_is_unchanged(slack, people, google, db_url):
    async with running_warroom(slack, db_url, google_config(google, documents=False)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await resume_setups.run(warroom.deps)
        assert await resource(warroom, incident.id, "conference") is None
        await slack.join(people.bob, incident.channel_id)
        welcome = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, incident.channel_id)
                                                if "Welcome" in e["text"]])
        assert "Video call" not in str(welcome[-1]["blocks"])
    assert not google.calls
