"""Tasks: created from a modal, shown as cards that stay current everywhere, listed, reminded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select, update

from jobs import task_reminders
from storage.task_models import IncidentTask, TaskCard
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for, report


async def open_modal(slack, user, command, channel):
    before = set(slack.views)
    await slack.slash_command(user, command, channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def cards(slack, channel):
    return [m for m in slack.channels[channel].messages if m.text.startswith("Task: ")]


async def create(slack, warroom, incident, user, assignees, description="Rotate the leaked key"):
    view = await open_modal(slack, user, "/dispatch-create-task", incident.channel_id)
    due = next(b for b in view.view["blocks"] if b.get("block_id") == "due")["element"]["initial_date"]
    assert due == (utcnow() + timedelta(days=1)).date().isoformat(), "due tomorrow by default"
    await slack.submit_view(user, view.id, {"description": description, "assignees": assignees, "priority": "High"})
    return (await slack.wait_for(lambda: cards(slack, incident.channel_id)))[-1]


async def test_task_card_with_resolve_and_reopen_updating_every_card(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    view = await open_modal(slack, people.alice, "/dispatch-create-task", incident.channel_id)
    bad = await slack.submit_view(people.alice, view.id, {"description": " ", "assignees": [people.bob]})
    assert set(bad.ack_payload["errors"]) == {"description"}
    await slack.submit_view(people.alice, view.id, {"description": "Rotate the leaked key", "assignees": [people.bob]})
    (card,) = await slack.wait_for(lambda: cards(slack, incident.channel_id))
    assert "*Rotate the leaked key*" in card.blocks[0]["text"]["text"] and f"<@{people.bob}>" in card.blocks[0]["text"]["text"]
    notice = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id)
                                  and [e for e in ephemerals_for(slack, people.bob, incident.channel_id) if "assigned you" in e["text"]])
    assert "Rotate the leaked key" in notice[-1]["text"]

    # A reminder DM is a second card of the same task.
    async with warroom.deps.sessions() as session:
        await session.execute(update(IncidentTask).values(due_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    assert await task_reminders.run(warroom.deps) == 1
    dm = slack.dm_channel(people.bob)
    reminder = dm.messages[-1]
    assert reminder.text.startswith("Overdue task in INC-1")

    await slack.click(people.bob, f"task_resolve_{1}", channel=dm.id, message_ts=reminder.ts)
    await slack.wait_for(lambda: ":white_check_mark:" in slack.channels[incident.channel_id].find(card.ts).blocks[0]["text"]["text"])
    assert ":white_check_mark:" in dm.find(reminder.ts).blocks[0]["text"]["text"], "every card shows the change"
    assert slack.channels[incident.channel_id].find(card.ts).blocks[0]["accessory"]["text"]["text"] == "Re-open"
    await slack.click(people.alice, "task_reopen_1", channel=incident.channel_id, message_ts=card.ts)
    await slack.wait_for(lambda: slack.channels[incident.channel_id].find(card.ts).blocks[0]["accessory"]["text"]["text"] == "Resolve")


async def test_overdue_reminders_at_most_once_a_day_even_with_two_processes(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await create(slack, warroom, incident, people.alice, [people.bob])
    async with warroom.deps.sessions() as session:
        await session.execute(update(IncidentTask).values(due_at=utcnow() - timedelta(minutes=5)))
        await session.commit()
    sent = await asyncio.gather(task_reminders.run(warroom.deps), task_reminders.run(warroom.deps))
    assert sorted(sent) == [0, 1]
    assert await task_reminders.run(warroom.deps) == 0
    async with warroom.deps.sessions() as session:
        await session.execute(update(IncidentTask).values(reminded_at=utcnow() - timedelta(days=1, minutes=1)))
        await session.commit()
    assert await task_reminders.run(warroom.deps) == 1, "a day later it is due again"


async def test_list_tasks_modal_and_list_my_tasks_across_incidents(slack, people, warroom):
    first = await report(slack, warroom, people.alice, people.general)
    second = await report(slack, warroom, people.alice, people.general, title="Second outage")
    await create(slack, warroom, first, people.alice, [people.bob], "Check backups")
    await create(slack, warroom, second, people.alice, [people.alice], "Call the vendor")

    view = await open_modal(slack, people.alice, "/dispatch-list-tasks", first.channel_id)
    texts = [b["text"]["text"] for b in view.view["blocks"] if b["type"] in ("header", "section")]
    assert texts[0] == "Open (1)" and "Check backups" in texts[1] and texts[2] == "Resolved (0)"
    await slack.click(people.alice, "task_resolve_1", view_id=view.id)
    await slack.wait_for(lambda: [b for b in slack.views[view.id].view["blocks"]
                                  if b["type"] == "header" and b["text"]["text"] == "Resolved (1)"])

    await slack.slash_command(people.alice, "/dispatch-list-my-tasks", channel=people.general)
    mine = (await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                          if e["text"] == "Your open tasks"]))[-1]
    shown = " ".join(b["text"]["text"] for b in mine["blocks"] if b["type"] == "section")
    assert "Call the vendor" in shown and "Check backups" not in shown, "resolved tasks are not listed"
    async with warroom.deps.sessions() as session:
        assert len((await session.execute(select(IncidentTask))).scalars().all()) == 2


async def test_someone_with_open_tasks_who_leaves_is_invited_back(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))  # welcomed: a participant
    card = await create(slack, warroom, incident, people.alice, [people.bob], "Rotate the leaked key")
    await slack.leave(people.bob, incident.channel_id)
    await slack.wait_for(lambda: people.bob in slack.channels[incident.channel_id].members)
    # The explanation is sent alongside the re-invite, not before it: wait for it.
    dm = (await slack.wait_for(lambda: [m for m in slack.dm_messages(people.bob) if "open task" in m.text]))[-1]
    assert "still have 1 open task(s): Rotate the leaked key" in dm.text

    await slack.click(people.bob, "task_resolve_1", channel=incident.channel_id, message_ts=card.ts)
    await slack.wait_for(lambda: ":white_check_mark:" in slack.channels[incident.channel_id].find(card.ts).blocks[0]["text"]["text"], timeout=15)
    await slack.leave(people.bob, incident.channel_id)
    from tests.e2e.incident_helpers import events

    async def left():
        return "Bob Sec left the incident; roles renounced" in await events(warroom, incident.id)

    await slack.wait_for(left)
    assert people.bob not in slack.channels[incident.channel_id].members, "no open task: leaving is fine"


async def test_the_card_clicked_is_refreshed_even_before_its_row_is_stored(slack, people, warroom):
    """The card is posted, then its (channel, ts) stored: a click in between still shows the new state on it."""
    incident = await report(slack, warroom, people.alice, people.general)
    card = await create(slack, warroom, incident, people.alice, [people.alice], "Call the vendor")
    async with warroom.deps.sessions() as session:  # as if the card's row were not stored yet
        await session.execute(delete(TaskCard))
        await session.commit()
    await slack.click(people.alice, "task_resolve_1", channel=incident.channel_id, message_ts=card.ts)
    await slack.wait_for(lambda: ":white_check_mark:" in slack.channels[incident.channel_id].find(card.ts)
                         .blocks[0]["text"]["text"])
