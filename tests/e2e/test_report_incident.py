"""A person reports an incident from Slack and gets a ready incident channel."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Event, Incident, IndividualContact, Participant, ParticipantRole

REPORT = "/dispatch-report-incident"
TITLE = "Checkout API returns 502 for EU customers"
GOOD = {"title": TITLE, "description": "30% of EU checkouts fail since 02:40 UTC", "incident_priority": "High"}


async def open_report_modal(slack, user, channel, text=""):
    delivery = await slack.slash_command(user, REPORT, text=text, channel=channel)
    await slack.wait_for(lambda: slack.open_views(user), timeout=5)
    return delivery, slack.open_views(user)[-1]


async def wait_ready(warroom, count=1) -> list[Incident]:
    async def ready():
        async with warroom.deps.sessions() as session:
            rows = (await session.execute(select(Incident).order_by(Incident.id))).scalars().all()
        return rows if len(rows) >= count and all(r.setup_state == "ready" for r in rows) else None

    for _ in range(200):
        rows = await ready()
        if rows:
            return rows
        await asyncio.sleep(0.025)
    raise AssertionError("incident channel never became ready")


async def count(warroom, model) -> int:
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_report_opens_a_ready_incident_channel(slack, people, warroom):
    delivery, view = await open_report_modal(slack, people.alice, people.general, text="Checkout down")
    assert delivery.ack_payload in (None, {}), "the slash command is acked with no text"
    title_block = next(b for b in view.view["blocks"] if b.get("block_id") == "title")
    assert title_block["element"]["initial_value"] == "Checkout down"

    submitted = await slack.submit_view(people.alice, view.id, GOOD)
    assert not (submitted.ack_payload or {}).get("errors")
    assert slack.views[view.id].state == "closed"

    (incident,) = await wait_ready(warroom)
    assert incident.name == "INC-1" and incident.status == "Active" and incident.visibility == "Open"
    channel = slack.channels[incident.channel_id]
    assert channel.name == "inc-1-checkout-api-returns-502-for-eu-customers"
    assert not channel.is_private
    assert people.alice in channel.members and slack.bot_user_id in channel.members
    assert channel.topic.startswith("INC-1 · Active · Priority: High · Commander: Alice Ops")

    summary = channel.messages[0]
    assert summary.ts in channel.pins
    assert TITLE in summary.blocks[0]["text"]["text"]
    assert any(b["link"].endswith(summary.ts.replace(".", "")) for b in channel.bookmarks)

    confirmations = [e for e in slack.ephemerals if e["user"] == people.alice and e["channel"] == people.general]
    assert len(confirmations) == 1 and f"<#{incident.channel_id}>" in confirmations[0]["text"]

    async with warroom.deps.sessions() as session:
        alice = (await session.execute(select(IndividualContact))).scalar_one()
        assert (alice.slack_user_id, alice.name, alice.email, alice.tz) == (
            people.alice, "Alice Ops", "alice@example.com", "Europe/Paris"
        )
        assert incident.commander_id == alice.id == incident.reporter_id
        roles = (await session.execute(select(ParticipantRole.role).join(Participant))).scalars().all()
        assert sorted(roles) == ["commander", "reporter"]
        events = (await session.execute(select(Event.description).order_by(Event.id))).scalars().all()
    assert events[0].startswith("Incident reported by")
    assert any("assumed the commander role" in e for e in events)
    assert any(e == f"Incident channel #{channel.name} created" for e in events)


async def test_independent_slack_calls_overlap(slack, people, warroom):
    slack.faults.latency = 0.1
    _, view = await open_report_modal(slack, people.alice, people.general)
    await slack.submit_view(people.alice, view.id, GOOD)
    await wait_ready(warroom)

    channel = (await wait_ready(warroom))[0].channel_id

    def interval(method):
        calls = slack.calls_to(method)
        if method == "chat.postMessage":  # the summary; the commander's help tips go by DM afterwards
            calls = [c for c in calls if c.params.get("channel") == channel]
        (call,) = calls
        return call.ts - call.duration, call.ts

    # Each call is held 100 ms by the emulator; calls that do not depend on each other are in
    # flight together instead of one after another.
    independent = ["conversations.invite", "conversations.setTopic", "chat.postMessage", "chat.postEphemeral"]
    spans = [interval(m) for m in independent]
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    user_start, user_end = interval("users.info")
    create_start, create_end = interval("conversations.create")
    assert user_start < create_end and create_start < user_end
    pin, bookmark = interval("pins.add"), interval("bookmarks.add")
    assert pin[0] < bookmark[1] and bookmark[0] < pin[1]


async def test_invalid_input_gets_modal_errors_and_nothing_is_stored(slack, people, warroom):
    _, view = await open_report_modal(slack, people.alice, people.general)
    result = await slack.submit_view(people.alice, view.id, {"title": "  ", "description": " \n "})
    errors = result.ack_payload["errors"]
    assert result.ack_payload["response_action"] == "errors"
    assert set(errors) == {"title", "description"}
    assert slack.views[view.id].state == "open"
    assert await count(warroom, Incident) == 0

    result = await slack.submit_view(people.alice, view.id, GOOD)
    assert not (result.ack_payload or {}).get("errors")
    await wait_ready(warroom)


async def test_double_submit_and_redelivery_create_one_incident(slack, people, warroom):
    _, view = await open_report_modal(slack, people.alice, people.general)
    first = await slack.submit_view(people.alice, view.id, GOOD)
    await slack.redeliver(first.envelope_id)
    await wait_ready(warroom)
    await asyncio.sleep(0.2)  # give a wrongly-started second set-up the time to show itself
    assert await count(warroom, Incident) == 1
    assert len([c for c in slack.channels.values() if c.name.startswith("inc-")]) == 1
    assert len(slack.calls_to("conversations.create")) == 1


async def test_channel_name_collision_and_non_ascii_title(slack, people, warroom):
    slack.add_channel("inc-1", members=[], bot_member=False)
    _, view = await open_report_modal(slack, people.alice, people.general)
    await slack.submit_view(people.alice, view.id, {**GOOD, "title": "数据库故障"})
    (incident,) = await wait_ready(warroom)
    assert incident.channel_name == "inc-1-2"
    assert [c.error for c in slack.calls_to("conversations.create")] == ["name_taken", None]


async def test_private_incident_gets_a_private_channel(slack, people, warroom):
    _, view = await open_report_modal(slack, people.alice, people.general)
    await slack.submit_view(people.alice, view.id, {**GOOD, "private": ["restricted"]})
    (incident,) = await wait_ready(warroom)
    assert incident.visibility == "Restricted"
    assert slack.channels[incident.channel_id].is_private


async def test_failure_half_way_keeps_the_incident_and_a_later_attempt_finishes(slack, people, warroom):
    slack.inject("conversations.setTopic", error="fatal_error", times=1)
    _, view = await open_report_modal(slack, people.alice, people.general)
    await slack.submit_view(people.alice, view.id, GOOD)

    async def stuck():
        async with warroom.deps.sessions() as session:
            row = (await session.execute(select(Incident))).scalar_one_or_none()
        return row if row is not None and row.setup_error else None

    await slack.wait_for(stuck, timeout=5)
    incident = await stuck()
    assert incident.setup_state == "channel_created" and "fatal_error" in incident.setup_error
    dm = slack.dm_channel(people.alice)
    assert dm is not None and "is recorded" in dm.messages[-1].text

    from jobs import resume_setups

    await resume_setups.run(warroom.deps)
    (incident,) = await wait_ready(warroom)
    channel = slack.channels[incident.channel_id]
    assert channel.topic.startswith("INC-1 · Active")
    assert len(slack.calls_to("conversations.create")) == 1
    assert len([m for m in channel.messages if m.user == slack.bot_user_id and m.blocks]) == 1
    assert len(channel.bookmarks) == 1


async def test_expired_trigger_tells_the_user_to_retry(slack, people, warroom):
    slack.faults.latency = 0.0
    slack.inject("views.open", error="expired_trigger_id", times=1)
    await slack.slash_command(people.alice, REPORT, channel=people.general)
    await slack.wait_for(lambda: [e for e in slack.ephemerals if e["user"] == people.alice], timeout=5)
    assert "try again" in slack.ephemerals[-1]["text"] and "expired_trigger_id" in slack.ephemerals[-1]["text"]


async def test_rate_limited_slack_is_retried(slack, people, warroom):
    slack.inject("conversations.create", status=429, retry_after=0, times=1)
    _, view = await open_report_modal(slack, people.alice, people.general)
    await slack.submit_view(people.alice, view.id, GOOD)
    (incident,) = await wait_ready(warroom)
    assert incident.channel_id in slack.channels


async def test_several_projects_offer_a_project_choice_that_reloads_the_options(slack, people, db_url):
    from bot.harness import running_warroom
    from domain.config.loader import load_config

    config = load_config(None)
    payments = config.projects[0].model_copy(deep=True)
    payments.name, payments.default, payments.channel_prefix = "payments", False, "pay"
    payments.incident_types = [t.model_copy(update={"name": "Fraud", "default": True}) for t in payments.incident_types[:1]]
    config.projects.append(payments)
    async with running_warroom(slack, db_url, config) as warroom:
        _, view = await open_report_modal(slack, people.alice, people.general)
        blocks = {b.get("block_id"): b for b in view.view["blocks"]}
        assert [o["value"] for o in blocks["project"]["element"]["options"]] == ["default", "payments"]
        await slack.click(people.alice, "report_incident_project", "payments", view_id=view.id)
        await slack.wait_for(
            lambda: [o["value"] for o in next(b for b in slack.views[view.id].view["blocks"]
                                               if b.get("block_id") == "incident_type")["element"]["options"]]
            == ["Fraud"]
        )
        await slack.submit_view(people.alice, view.id, {**GOOD, "project": "payments"})
        (incident,) = await wait_ready(warroom)
    assert incident.name == "PAY-1" and incident.channel_name.startswith("pay-1-")
