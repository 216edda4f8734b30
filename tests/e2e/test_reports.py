"""Commanders write tactical and executive reports, and are reminded when they are due."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from domain.reports import claim_reminder, due_reminders
from jobs import report_reminders
from storage.models import Event, Incident
from storage.report_models import IncidentReport, ReportReminder
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for, report, without_channel

TACTICAL = {"conditions": "EU checkout errors at 30%", "actions": "Rolled back deploy 42", "needs": "DBA on call"}


async def open_modal(slack, user, command, channel):
    before = set(slack.views)
    await slack.slash_command(user, command, channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def bot_posts(slack, channel, prefix):
    return [m for m in slack.channels[channel].messages if m.user == slack.bot_user_id and m.text.startswith(prefix)]


async def test_tactical_report_is_posted_stored_logged_and_prefills_the_next(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_modal(slack, people.alice, "/dispatch-report-tactical", incident.channel_id)
    empty = await slack.submit_view(people.alice, view.id, {"conditions": " ", "actions": "  ", "needs": "\n"})
    assert set(empty.ack_payload["errors"]) == {"conditions", "actions", "needs"}
    await slack.submit_view(people.alice, view.id, TACTICAL)
    (posted,) = await slack.wait_for(lambda: bot_posts(slack, incident.channel_id, "Tactical report"))
    shown = " ".join(b["text"]["text"] for b in posted.blocks if b["type"] == "section")
    assert "*Conditions*\nEU checkout errors at 30%" in shown and "*Needs*\nDBA on call" in shown
    async with warroom.deps.sessions() as session:
        stored = (await session.execute(select(IncidentReport))).scalar_one()
        logged = (await session.execute(select(Event.description).where(Event.description.like("%tactical report"))))
        assert stored.details == TACTICAL and logged.scalar_one() == "Alice Ops wrote a tactical report"

    again = await open_modal(slack, people.alice, "/dispatch-report-tactical", incident.channel_id)
    initial = {b["block_id"]: b["element"].get("initial_value") for b in again.view["blocks"]}
    assert initial == TACTICAL


async def test_no_report_for_an_incident_without_a_channel(slack, people, warroom):
    """Reports are posted in the incident channel: an incident whose set-up never created it (named from
    another channel) is refused before the form opens, rather than stored and never posted."""
    incident = await report(slack, warroom, people.alice, people.general)
    await without_channel(warroom, incident.id)
    await slack.slash_command(people.alice, "/dispatch-report-tactical", text=incident.name, channel=people.general)
    await slack.wait_for(lambda: any("no channel yet" in m.text for m in slack.dm_messages(people.alice)))
    await warroom.registry.drain()
    assert not slack.open_views(people.alice)


async def test_only_commander_scribe_or_admin_may_report(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    await slack.slash_command(people.bob, "/dispatch-report-tactical", channel=incident.channel_id)
    refusal = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, incident.channel_id)
                                            if "can run" in e["text"] or "Only" in e["text"]])
    assert f"<@{people.alice}>" in refusal[-1]["text"]
    assert not slack.open_views(people.bob)


async def test_executive_report_goes_to_the_channel_and_the_notifications_group(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    group = await open_modal(slack, people.alice, "/dispatch-notifications-group", incident.channel_id)
    await slack.submit_view(people.alice, group.id, {"people": [people.bob], "emails": ""})
    view = await open_modal(slack, people.alice, "/dispatch-report-executive", incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"current_status": "Mitigated", "overview": "Checkout failed in EU",
                                                    "next_steps": "Postmortem Friday"})
    await slack.wait_for(lambda: bot_posts(slack, incident.channel_id, "Executive report"))
    dm = await slack.wait_for(lambda: slack.dm_channel(people.bob) and slack.dm_channel(people.bob).messages)
    assert dm[-1].text.startswith("Executive report") and "Postmortem Friday" in str(dm[-1].blocks)


async def make_overdue(warroom, incident_id: int, hours: int) -> None:
    async with warroom.deps.sessions() as session:
        await session.execute(update(Incident).where(Incident.id == incident_id)
                              .values(reported_at=utcnow() - timedelta(hours=hours)))
        await session.commit()


def reminders_to(slack, user) -> list:
    dm = slack.dm_channel(user)
    return [m for m in (dm.messages if dm else []) if "is due a" in m.text]


async def test_reminder_sent_once_per_interval_even_with_two_processes(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="Critical")
    await make_overdue(warroom, incident.id, hours=2)  # Critical: tactical every 1 h, executive every 4 h
    sent = await asyncio.gather(report_reminders.run(warroom.deps), report_reminders.run(warroom.deps))
    assert sorted(sent) == [0, 1]
    (reminder,) = reminders_to(slack, people.alice)
    assert "is due a tactical report (every 1 h" in reminder.text
    assert await report_reminders.run(warroom.deps) == 0, "the same interval is never reminded twice"

    # A restart changes nothing: the due time comes from the database.
    async with warroom.deps.sessions() as session:
        (due,) = [d for d in await due_reminders(session) if d[0].incident_id == incident.id]
        assert not await claim_reminder(session, incident.id, "tactical", due[2], utcnow())


async def test_snooze_button_reminds_again_later_and_write_button_opens_the_form(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="Critical")
    await make_overdue(warroom, incident.id, hours=2)
    await report_reminders.run(warroom.deps)
    (reminder,) = reminders_to(slack, people.alice)
    dm = slack.dm_channel(people.alice).id
    await slack.click(people.alice, "report_snooze_30", channel=dm, message_ts=reminder.ts)
    await slack.wait_for(lambda: "remind you again in 30 minutes" in slack.dm_channel(people.alice).messages[-1].text)
    assert await report_reminders.run(warroom.deps) == 0
    async with warroom.deps.sessions() as session:  # 30 minutes later
        await session.execute(update(ReportReminder).values(snoozed_until=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert await report_reminders.run(warroom.deps) == 1

    await slack.click(people.alice, "report_write", channel=dm, message_ts=reminder.ts)
    view = (await slack.wait_for(lambda: slack.open_views(people.alice)))[-1]
    assert view.view["title"]["text"] == "Tactical report"
    await slack.submit_view(people.alice, view.id, TACTICAL)
    await slack.wait_for(lambda: bot_posts(slack, incident.channel_id, "Tactical report"))
    assert await report_reminders.run(warroom.deps) == 0, "a fresh report resets the interval"


async def test_tactical_actions_list_the_open_tasks(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    task = await open_modal(slack, people.alice, "/dispatch-create-task", incident.channel_id)
    await slack.submit_view(people.alice, task.id, {"description": "Rotate the API key", "assignees": [people.alice]})
    await slack.wait_for(lambda: [m for m in slack.channels[incident.channel_id].messages if m.text.startswith("Task: ")])
    view = await open_modal(slack, people.alice, "/dispatch-report-tactical", incident.channel_id)
    actions = next(b for b in view.view["blocks"] if b["block_id"] == "actions")["element"]["initial_value"]
    assert actions == "• Rotate the API key"


async def test_executive_report_reaches_notification_channels_but_never_for_restricted(slack, people, db_url):
    from bot.harness import running_warroom
    from domain.config.schema import WarroomConfig

    room = slack.add_channel("exec-updates", members=[people.bob])
    config = WarroomConfig.model_validate({"notification_channels": [{"name": "exec", "channel": room}]})
    async with running_warroom(slack, db_url, config) as warroom:
        public = await report(slack, warroom, people.alice, people.general, title="Public outage")
        private = await report(slack, warroom, people.alice, people.general, title="Private breach",
                               private=["restricted"])
        for incident in (public, private):
            view = await open_modal(slack, people.alice, "/dispatch-report-executive", incident.channel_id)
            await slack.submit_view(people.alice, view.id, {"current_status": "Mitigated", "overview": incident.title,
                                                            "next_steps": "Review"})
            await slack.wait_for(lambda channel=incident.channel_id: bot_posts(slack, channel, "Executive report"))
    posted = bot_posts(slack, room, "Executive report")
    assert len(posted) == 1 and "Public outage" in posted[0].text
