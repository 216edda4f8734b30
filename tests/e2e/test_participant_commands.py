"""list-participants, update-participant, notifications-group and list-incidents."""

from __future__ import annotations

from sqlalchemy import select

from storage.command_models import IncidentDetail, ParticipantDetail
from tests.e2e.incident_helpers import ephemerals_for, report


async def new_view(slack, user, command, channel, text=""):
    before = set(slack.views)
    await slack.slash_command(user, command, channel=channel, text=text)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_list_and_update_participant(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))

    view = await new_view(slack, people.bob, "/dispatch-update-participant", incident.channel_id)
    options = next(b for b in view.view["blocks"] if b["block_id"] == "participant")["element"]["options"]
    bob_option = next(o["value"] for o in options if o["text"]["text"] == "Bob Sec")
    await slack.submit_view(people.bob, view.id, {"participant": bob_option, "reason": "Owns checkout",
                                                  "expertise": "payments <db>"})

    async def stored():
        async with warroom.deps.sessions() as session:
            return (await session.execute(select(ParticipantDetail))).scalar_one_or_none()

    assert (await slack.wait_for(stored)).expertise == "payments <db>"

    view = await new_view(slack, people.bob, "/dispatch-list-participants", incident.channel_id)
    text = str(view.view["blocks"])
    assert f"<@{people.alice}>" in text and "commander" in text
    assert "Owns checkout" in text and "payments &lt;db&gt;" in text and "observer" in text


async def test_list_participants_outside_incident_channel(slack, people, warroom):
    await slack.slash_command(people.bob, "/dispatch-list-participants", channel=people.general)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, people.general))
    assert "not in any active incident" in refusal[-1]["text"]


async def test_notifications_group(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.bob, "/dispatch-notifications-group", channel=incident.channel_id)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
    assert "Only the incident commander" in refusal[-1]["text"]

    view = await new_view(slack, people.alice, "/dispatch-notifications-group", incident.channel_id)
    bad = await slack.submit_view(people.alice, view.id, {"people": [people.bob], "emails": "ceo@example.com, nope"})
    assert "nope" in bad.ack_payload["errors"]["emails"]
    await slack.submit_view(people.alice, view.id, {"people": [people.bob], "emails": "CEO@example.com legal@example.com"})

    async def group():
        async with warroom.deps.sessions() as session:
            row = (await session.execute(select(IncidentDetail))).scalar_one_or_none()
        return row if row is not None and row.notify_emails else None

    row = await slack.wait_for(group)
    assert row.notify_user_ids == [people.bob] and row.notify_emails == ["ceo@example.com", "legal@example.com"]
    view = await new_view(slack, people.alice, "/dispatch-notifications-group", incident.channel_id)
    people_block = next(b for b in view.view["blocks"] if b.get("block_id") == "people")
    assert people_block["element"]["initial_users"] == [people.bob]


async def test_list_incidents_hides_restricted_from_non_participants(slack, people, warroom):
    public = await report(slack, warroom, people.alice, people.general)
    secret = await report(slack, warroom, people.alice, people.general, title="Leaked key", private=["restricted"])
    await slack.slash_command(people.bob, "/dispatch-list-incidents", channel=people.general)
    listing = (await slack.wait_for(lambda: ephemerals_for(slack, people.bob, people.general)))[-1]["text"]
    assert public.name in listing and secret.name not in listing

    await slack.slash_command(people.alice, "/dispatch-list-incidents", channel=people.general, text="default")
    listing = (await slack.wait_for(lambda: ephemerals_for(slack, people.alice, people.general)
                                    and [e for e in ephemerals_for(slack, people.alice, people.general)
                                         if "Incidents in default" in e["text"]]))[-1]["text"]
    assert public.name in listing and secret.name in listing

    await slack.slash_command(people.alice, "/dispatch-list-incidents", channel=people.general, text="nope")
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice) if "No project called" in e["text"]])
