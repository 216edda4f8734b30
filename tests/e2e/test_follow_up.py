"""After the incident: the pinned summary kept current (status, tags, commander), the follow-up DM of an
incident left Stable (open tasks named, Close it, Remind me next week), weekly until closed."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import SCHEDULE
from jobs.runner import run_job
from storage.models import Incident
from storage.tag_models import Tag
from storage.task_models import IncidentTask
from storage.types import utcnow
from storage.workflow_models import IncidentFollowUp
from tests.e2e.incident_helpers import events, report, roles

UPDATE, ASSIGN, TASK = "/dispatch-update-incident", "/dispatch-assign-role", "/dispatch-create-task"


def config() -> WarroomConfig:
    return WarroomConfig.model_validate({"tags": {"types": [{"name": "Component", "tags": [{"name": "payments"}]}]},
                                         "follow_up": {"stable_days": 7}})


async def new_view(slack, user, act):
    before = set(slack.views)
    await act()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def summary_text(slack, incident: Incident) -> str:
    message = slack.channels[incident.channel_id].find(incident.summary_message_ts)
    return json.dumps(message.blocks)


async def test_the_pinned_summary_follows_status_tags_and_commander_and_lists_the_commands(slack, people, db_url):
    async with running_warroom(slack, db_url, config()) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        assert incident.channel_id and incident.summary_message_ts
        text = summary_text(slack, incident)
        assert "Active" in text and "/dispatch-update-incident" in text and "/dispatch-run-workflow" in text
        async with warroom.deps.sessions() as session:
            payments = (await session.execute(select(Tag.id).where(Tag.name == "payments"))).scalar_one()
        type_block = next(b["block_id"] for b in (await new_view(
            slack, people.alice, lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))).view["blocks"]
            if (b.get("block_id") or "").startswith("tag_type_"))
        view = slack.open_views(people.alice)[-1]
        await slack.submit_view(people.alice, view.id, {"status": "Stable", "incident_severity": "Minor",
                                                        type_block: [str(payments)]})
        await slack.wait_for(lambda: "Stable" in summary_text(slack, incident) and "payments" in summary_text(slack, incident))
        assert "Active" not in summary_text(slack, incident)
        pinned = [m for m in slack.channels[incident.channel_id].messages if m.ts in slack.channels[incident.channel_id].pins]
        assert [m.ts for m in pinned] == [incident.summary_message_ts]  # edited in place, not posted again

        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, ASSIGN, channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "commander"})
        await slack.wait_for(lambda: f"<@{people.bob}>" in summary_text(slack, incident))


async def test_a_stable_incident_gets_a_weekly_follow_up_naming_open_tasks_until_closed(slack, people, db_url):
    async with running_warroom(slack, db_url, config()) as warroom:
        job = SCHEDULE["follow_ups"]
        incident = await report(slack, warroom, people.alice, people.general)
        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, TASK, channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"description": "Write the postmortem", "assignees": [people.bob]})
        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"status": "Stable", "incident_severity": "Minor"})

        async def stable():
            async with warroom.deps.sessions() as session:
                row = await session.get(Incident, incident.id)
            return row if row.status == "Stable" and row.stable_at else None

        await slack.wait_for(stable)
        dms_before = len(slack.dm_messages(people.alice))
        assert await run_job("follow_ups", job.func, warroom.deps) == "ran"
        assert len(slack.dm_messages(people.alice)) == dms_before  # Stable for less than 7 days: nothing yet

        async with warroom.deps.sessions() as session:
            await session.execute(update(Incident).where(Incident.id == incident.id)
                                  .values(stable_at=utcnow() - timedelta(days=8)))
            await session.commit()
        await run_job("follow_ups", job.func, warroom.deps)
        await run_job("follow_ups", job.func, warroom.deps)  # claimed once: one DM
        follow_ups = [m for m in slack.dm_messages(people.alice) if "Stable for 8 days" in m.text]
        assert len(follow_ups) == 1
        blocks = json.dumps(follow_ups[0].blocks)
        assert "Write the postmortem" in blocks and "1 open task" in blocks and "Remind me next week" in blocks
        dm = slack.dm_channel(people.alice).id

        await slack.click(people.alice, "follow_up_snooze", channel=dm, message_ts=follow_ups[0].ts)
        await slack.wait_for(lambda: "again on" in (slack.dm_channel(people.alice).find(follow_ups[0].ts).text or ""))
        async with warroom.deps.sessions() as session:
            row = (await session.execute(select(IncidentFollowUp))).scalar_one()
        assert row.next_at > utcnow() + timedelta(days=6)

        # A week later: reminded again.
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentFollowUp).values(next_at=utcnow() - timedelta(minutes=1)))
            await session.commit()
        first = follow_ups[0].ts
        await run_job("follow_ups", job.func, warroom.deps)
        follow_ups = [m for m in slack.dm_messages(people.alice) if "Stable for 8 days" in m.text]
        assert [m.ts != first for m in follow_ups] == [True]  # the first one now says when it will ask again

        # "Close it" opens the update form set to Closed; the form's own rules apply (resolution etc.).
        view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "follow_up_close", channel=dm,
                                                                        message_ts=follow_ups[-1].ts))
        assert view.view["callback_id"] == "update_incident"
        status = next(b for b in view.view["blocks"] if b.get("block_id") == "status")
        assert status["element"]["initial_option"]["value"] == "Closed"
        await slack.submit_view(people.alice, view.id, {"resolution": "Fixed the config"})

        async def closed():
            async with warroom.deps.sessions() as session:
                return (await session.get(Incident, incident.id)).status == "Closed"

        await slack.wait_for(closed)
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentFollowUp).values(next_at=utcnow() - timedelta(minutes=1)))
            await session.commit()
        await run_job("follow_ups", job.func, warroom.deps)
        assert len([m for m in slack.dm_messages(people.alice) if "Stable for" in m.text]) == 1  # closed: no more

        # Its task is a follow-up action item: reminded (to its assignee) after the close, until resolved.
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentTask).values(due_at=utcnow() - timedelta(hours=1)))
            await session.commit()
        assert await run_job("task_reminders", SCHEDULE["task_reminders"].func, warroom.deps) == "ran"
        overdue = [m for m in slack.dm_messages(people.bob) if "Overdue task" in m.text]
        assert len(overdue) == 1 and "Write the postmortem" in overdue[0].text
        task_id = (await _task_ids(warroom))[0]
        await slack.click(people.bob, f"task_resolve_{task_id}", channel=slack.dm_channel(people.bob).id,
                          message_ts=overdue[0].ts)

        async def resolved():
            async with warroom.deps.sessions() as session:
                return (await session.get(IncidentTask, task_id)).status == "Resolved"

        await slack.wait_for(resolved)
        dms = len(slack.dm_messages(people.bob))
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentTask).values(reminded_at=utcnow() - timedelta(days=2)))
            await session.commit()
        await run_job("task_reminders", SCHEDULE["task_reminders"].func, warroom.deps)
        assert len(slack.dm_messages(people.bob)) == dms  # resolved: no more reminders


async def _task_ids(warroom) -> list[int]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(IncidentTask.id))).scalars())


async def test_help_tips_reach_the_commander_once_and_observers_who_talk_become_participants(slack, people, db_url):
    async with running_warroom(slack, db_url, config()) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        tips = await slack.wait_for(lambda: [m for m in slack.dm_messages(people.alice)
                                             if "You are now the incident commander" in m.text])
        blocks = json.dumps(tips[0].blocks)
        assert "/dispatch-update-incident" in blocks and "/dispatch-run-workflow" in blocks
        # A resumed set-up (here: run again) does not send them twice.
        await resume_setup(warroom, incident.id)
        assert len([m for m in slack.dm_messages(people.alice) if "You are now the incident commander" in m.text]) == 1

        await slack.join(people.bob, incident.channel_id)
        await slack.wait_for(lambda: roles(warroom, incident.id, people.bob))
        assert await roles(warroom, incident.id, people.bob) == ["observer"]
        for text in ("I see errors in eu-west", "rolling back now"):
            await slack.post_message(people.bob, incident.channel_id, text)
        await slack.post_message(people.bob, incident.channel_id, "a reply", thread_ts=incident.summary_message_ts)
        await warroom.registry.drain()
        assert await roles(warroom, incident.id, people.bob) == ["observer"]  # 2 messages (replies do not count)
        await slack.post_message(people.bob, incident.channel_id, "rollback done")
        await slack.wait_for(lambda: _is_participant(warroom, incident.id, people.bob))
        await slack.post_message(people.bob, incident.channel_id, "and one more")
        await warroom.registry.drain()
        assert await roles(warroom, incident.id, people.bob) == ["participant"]
        assert [e for e in await events(warroom, incident.id) if "became a participant" in e] == [
            "Bob Sec became a participant (3 messages in the channel)"]
        # The commander talking changes nothing about their role.
        for _ in range(3):
            await slack.post_message(people.alice, incident.channel_id, "status?")
        await warroom.registry.drain()
        assert "commander" in await roles(warroom, incident.id, people.alice)


async def _is_participant(warroom, incident_id, user) -> bool:
    return await roles(warroom, incident_id, user) == ["participant"]


async def resume_setup(warroom, incident_id) -> None:
    async with warroom.deps.sessions() as session:
        await session.execute(update(Incident).where(Incident.id == incident_id).values(setup_state="channel_created"))
        await session.commit()
    await run_job("resume_incident_setups", SCHEDULE["resume_incident_setups"].func, warroom.deps)


async def test_a_reminder_slack_refuses_does_not_stop_the_others_of_the_run(slack, people, db_url):
    async with running_warroom(slack, db_url, config()) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        for description, assignee in (("Rotate the keys", people.bob), ("Write the postmortem", people.alice)):
            view = await new_view(slack, people.alice,
                                  lambda: slack.slash_command(people.alice, TASK, channel=incident.channel_id))
            await slack.submit_view(people.alice, view.id, {"description": description, "assignees": [assignee]})

        async def both():
            return len(await _task_ids(warroom)) == 2

        await slack.wait_for(both)
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentTask).values(due_at=utcnow() - timedelta(hours=1)))
            await session.commit()
        slack.inject("chat.postMessage", error="account_inactive", times=10,
                     when=lambda params: params.get("channel") == people.bob)
        assert await SCHEDULE["task_reminders"].func(warroom.deps) == 1
        overdue = [m for m in slack.dm_messages(people.alice) if "Overdue task" in m.text]
        assert len(overdue) == 1 and "Write the postmortem" in overdue[0].text
