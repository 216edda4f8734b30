"""Reading the timeline and adding events by hand, in the reader's time zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from domain.timeline import PAGE_SIZE
from storage.models import Event
from tests.e2e.incident_helpers import ephemerals_for, report


async def open_add_event(slack, user, channel, text=""):
    before = set(slack.views)
    await slack.slash_command(user, "/dispatch-add-timeline-event", text=text, channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def initial(view, block_id, key):
    return next(b for b in view.view["blocks"] if b.get("block_id") == block_id)["element"][key]


async def test_add_event_prefilled_from_text_in_the_persons_time_zone(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_add_event(slack, people.alice, incident.channel_id,
                                "DESC Database failover started DATE 2026-11-20 TIME 03:10")
    assert initial(view, "description", "initial_value") == "Database failover started"
    assert (initial(view, "date", "initial_date"), initial(view, "time", "initial_time")) == ("2026-11-20", "03:10")
    assert initial(view, "tz", "initial_option")["value"] == "Europe/Paris"

    result = await slack.submit_view(people.alice, view.id, {})
    assert not (result.ack_payload or {}).get("errors")
    # Said in the channel, for everyone there (Dispatch users asked for it), once even if submitted twice.
    posted = await slack.wait_for(lambda: [m for m in slack.channels[incident.channel_id].messages
                                           if "added to the timeline" in json.dumps(m.blocks or [])])
    assert "Database failover started" in posted[0].text and f"<@{people.alice}>" in posted[0].text
    async with warroom.deps.sessions() as session:
        event = (await session.execute(select(Event).where(Event.description == "Database failover started"))).scalar_one()
    assert event.started_at == datetime(2026, 11, 20, 2, 10, tzinfo=UTC), "03:10 in Paris is 02:10 UTC"
    assert event.source == "Added by Alice Ops"


async def test_add_event_refuses_empty_text_and_future_times(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_add_event(slack, people.alice, incident.channel_id)
    result = await slack.submit_view(people.alice, view.id, {"description": " ", "date": "2099-01-01", "tz": "UTC"})
    assert set(result.ack_payload["errors"]) == {"description", "time"}
    assert "future" in result.ack_payload["errors"]["time"]
    assert slack.views[view.id].state == "open"


async def test_timeline_is_listed_oldest_first_in_local_time_and_paginated(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    from domain.timeline import record_event

    async with warroom.deps.sessions() as session:
        for i in range(PAGE_SIZE + 3):
            await record_event(session, incident.id, f"step {i:02d}",
                               started_at=datetime(2026, 11, 20, 1, i, tzinfo=UTC))
        await session.commit()
    await slack.slash_command(people.alice, "/dispatch-timeline", channel=incident.channel_id)
    first = (await slack.wait_for(lambda: ephemerals_for(slack, people.alice, incident.channel_id)))[-1]
    lines = [b["text"]["text"] for b in first["blocks"] if b["type"] == "section"]
    assert lines[0] == "*2026-11-20 02:00*  step 00", "01:00 UTC shown as 02:00 in Paris"
    assert len(lines) == PAGE_SIZE
    footer = first["blocks"][-1]["elements"][0]["text"]
    assert "page 1 of 2" in footer and "`/dispatch-timeline 2`" in footer

    await slack.join(people.bob, incident.channel_id)
    await slack.slash_command(people.bob, "/dispatch-timeline", text="2", channel=incident.channel_id)
    second = (await slack.wait_for(
        lambda: [e for e in ephemerals_for(slack, people.bob, incident.channel_id) if "timeline" in e["text"]]))[-1]
    lines = [b["text"]["text"] for b in second["blocks"] if b["type"] == "section"]
    assert lines[:3] == ["*2026-11-19 20:15*  step 15", "*2026-11-19 20:16*  step 16", "*2026-11-19 20:17*  step 17"]
    assert any("Incident reported by" in line for line in lines[3:]), "the incident's own events follow"
    assert "Times in America/New_York · page 2 of 2" in second["blocks"][-1]["elements"][0]["text"]


async def test_timeline_outside_an_incident_channel_is_refused(slack, people, warroom):
    await slack.slash_command(people.alice, "/dispatch-timeline", channel=people.general)
    refusal = (await slack.wait_for(lambda: ephemerals_for(slack, people.alice, people.general)))[-1]
    assert "incident channel" in refusal["text"]
