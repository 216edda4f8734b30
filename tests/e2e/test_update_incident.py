"""The commander updates the incident from its channel; others are refused; lifecycle flows."""

from __future__ import annotations

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from tests.e2e.incident_helpers import ephemerals_for, events, reload, report, roles

UPDATE = "/dispatch-update-incident"


async def open_update(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, UPDATE, channel=channel)
    views = await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before])
    return views[-1]


def block(view, block_id):
    return next(b for b in view.view["blocks"] if b.get("block_id") == block_id)


async def test_outside_an_incident_channel_lists_your_incidents(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.alice, UPDATE, channel=people.general)
    refusal = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                            if "incident channel" in e["text"]])
    assert f"<#{incident.channel_id}>" in refusal[-1]["text"] and incident.name in refusal[-1]["text"]
    assert not slack.open_views(people.alice)


async def test_non_commander_is_refused_with_who_can(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.bob, UPDATE, channel=incident.channel_id)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    assert "Only the incident commander" in refusal[-1]["text"] and f"<@{people.alice}>" in refusal[-1]["text"]
    assert not slack.open_views(people.bob)


async def test_admin_may_update(slack, people, db_url):
    config = WarroomConfig(admins=[people.bob])
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        view = await open_update(slack, people.bob, incident.channel_id)
        await slack.submit_view(people.bob, view.id, {"incident_priority": "Medium"})
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: "Priority: Medium" in channel.topic)


async def test_modal_prefilled_and_changes_post_one_message(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_update(slack, people.alice, incident.channel_id)
    assert block(view, "title")["element"]["initial_value"] == incident.title
    assert block(view, "status")["element"]["initial_option"]["value"] == "Active"
    assert block(view, "incident_severity")["element"]["initial_option"]["value"] == "Undetermined"
    channel = slack.channels[incident.channel_id]
    posted_before = len(channel.messages)

    result = await slack.submit_view(people.alice, view.id, {
        "title": "Checkout API down", "incident_priority": "High", "incident_severity": "Major"})
    assert not (result.ack_payload or {}).get("errors")
    await slack.wait_for(lambda: "Priority: High" in channel.topic)
    await slack.wait_for(lambda: len(channel.messages) == posted_before + 1)
    changed = channel.messages[-1].text
    for part in ("Title", "Checkout API down", "Priority", "High", "Severity", "Major"):
        assert part in changed
    stored = await reload(warroom, incident.id)
    assert stored.title == "Checkout API down"
    log = await events(warroom, incident.id)
    assert any(e.startswith("Incident field updated: Title") for e in log)
    assert any(e.startswith("Incident assessment updated: Priority changed from Low to High") for e in log)


async def test_nothing_changed_posts_nothing(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]
    count = len(channel.messages)
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {})
    assert slack.views[view.id].state == "closed"

    async def saved():
        return (await reload(warroom, incident.id)).updated_at > incident.updated_at

    await slack.wait_for(saved)
    assert len(channel.messages) == count


async def test_undetermined_severity_forbids_stable(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_update(slack, people.alice, incident.channel_id)
    result = await slack.submit_view(people.alice, view.id, {"status": "Stable"})
    assert "incident_severity" in result.ack_payload["errors"]
    assert slack.views[view.id].state == "open"
    assert (await reload(warroom, incident.id)).status == "Active"


async def test_stable_then_closed_archives_and_summarises(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Stable", "incident_severity": "Minor"})
    await slack.wait_for(lambda: "· Stable ·" in channel.topic)
    stored = await reload(warroom, incident.id)
    assert stored.stable_at is not None and stored.closed_at is None
    assert "Post-incident review step started" in await events(warroom, incident.id)

    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Closed", "resolution": "Rolled back the deploy"})
    await slack.wait_for(lambda: channel.is_archived)
    assert any("closed after" in m.text for m in channel.messages)
    assert any("Rolled back the deploy" in str(m.blocks) for m in channel.messages)
    stored = await reload(warroom, incident.id)
    assert stored.status == "Closed" and stored.closed_at is not None
    assert await roles(warroom, incident.id, people.alice) == []


async def test_closing_without_archiving_then_reopening(slack, people, db_url):
    config = WarroomConfig(archive_on_close=False)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        channel = slack.channels[incident.channel_id]
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"status": "Closed", "incident_severity": "Minor"})
        await slack.wait_for(lambda: "· Closed ·" in channel.topic)
        assert not channel.is_archived
        # The commander keeps the right to reopen even with every role renounced.
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"status": "Active"})
        await slack.wait_for(lambda: "· Active ·" in channel.topic)
        stored = await reload(warroom, incident.id)
        assert stored.closed_at is None and stored.stable_at is None
        assert "commander" in await roles(warroom, incident.id, people.alice)
        assert "Incident reopened as Active" in await events(warroom, incident.id)


async def test_stable_priority_swap(slack, people, db_url):
    config = WarroomConfig()
    config.projects[0].stable_priority = "Low"
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, incident_priority="High")
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"status": "Stable", "incident_severity": "Minor"})
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: "Priority: Low" in channel.topic)
        assert "Priority" in channel.messages[-1].text


async def test_retroactive_report_created_stable(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general, status="Stable", incident_severity="Minor")
    stored = await reload(warroom, incident.id)
    assert stored.status == "Stable" and stored.stable_at is not None
    assert "· Stable ·" in slack.channels[incident.channel_id].topic
    assert "Post-incident review step started" in await events(warroom, incident.id)


async def test_retroactive_report_created_closed(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general, status="Closed", incident_severity="Minor")
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: channel.is_archived)
    assert any("closed after" in m.text for m in channel.messages)
    stored = await reload(warroom, incident.id)
    assert stored.closed_at is not None and await roles(warroom, incident.id, people.alice) == []


async def test_retroactive_report_needs_an_assessed_severity(slack, people, warroom):
    await slack.slash_command(people.alice, "/dispatch-report-incident", channel=people.general)
    view = (await slack.wait_for(lambda: slack.open_views(people.alice)))[-1]
    result = await slack.submit_view(people.alice, view.id, {"title": "Old outage", "description": "last week",
                                                             "status": "Closed"})
    assert "incident_severity" in result.ack_payload["errors"]
    assert slack.views[view.id].state == "open"


async def test_archived_incident_is_reopened_from_another_channel_by_name(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Closed", "incident_severity": "Minor"})
    await slack.wait_for(lambda: channel.is_archived)

    before = set(slack.views)
    await slack.slash_command(people.alice, UPDATE, text=incident.name.lower(), channel=people.general)
    view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
    await slack.submit_view(people.alice, view.id, {"status": "Active"})
    await slack.wait_for(lambda: not channel.is_archived and "· Active ·" in channel.topic)

    await slack.slash_command(people.bob, UPDATE, text=incident.name, channel=people.general)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, people.general))
    assert "Only the incident commander" in refusal[-1]["text"]


async def test_restricting_an_incident_whose_channel_is_public_is_refused(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    assert not slack.channels[incident.channel_id].is_private
    view = await open_update(slack, people.alice, incident.channel_id)
    refused = await slack.submit_view(people.alice, view.id, {"visibility": "Restricted", "title": "Quiet now"})
    assert set(refused.ack_payload["errors"]) == {"visibility"}, "the form stays open, saying why and what to do"
    said = refused.ack_payload["errors"]["visibility"]
    assert "public" in said and "Private incident" in said and "convert" in said
    assert slack.views[view.id].state == "open"
    stored = await reload(warroom, incident.id)
    assert (stored.visibility, stored.title) == ("Open", incident.title), "nothing of the submission applied"

    # Reported private, it may be opened up and restricted again: its channel is private.
    private = await report(slack, warroom, people.alice, people.general, title="Key leak", private=["restricted"])
    for visibility in ("Open", "Restricted"):
        view = await open_update(slack, people.alice, private.channel_id)
        done = await slack.submit_view(people.alice, view.id, {"visibility": visibility})
        assert not (done.ack_payload or {}).get("errors")
        await slack.wait_for(lambda visibility=visibility: any(
            f"→ {visibility}" in str(m.blocks) for m in slack.channels[private.channel_id].messages))
    assert (await reload(warroom, private.id)).visibility == "Restricted"
