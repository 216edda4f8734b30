"""Engagement rules, engage-oncall, paging the commander, notification-channel announcements."""

from __future__ import annotations

from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import resume_setups
from storage.command_models import IncidentAnnouncement, IncidentDetail
from storage.models import Incident
from tests.e2e.incident_helpers import GOOD, REPORT, ephemerals_for, events, participant, report, roles
from tests.fakes import RecordingOncall


def config_for(slack, people, **extra) -> WarroomConfig:
    return WarroomConfig.model_validate({
        "engagement": {
            "individuals": [{"name": "Bob", "user": people.bob, "terms": ["Payments gateway"]},
                            {"name": "Vendor", "email": "support@vendor.example", "terms": ["checkout"]}],
            "services": [{"name": "db", "terms": ["postgres"]}],
        },
        "oncall": {"schedules": {"db": [slack.add_user("carol", real_name="Carol DBA")], "empty": []}},
        **extra,
    })


async def test_engagement_at_creation_and_on_change(slack, people, db_url):
    async with running_warroom(slack, db_url, config_for(slack, people)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Checkout: gateway timeouts!")
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: people.bob in channel.members)
        await slack.wait_for(lambda: any("support@vendor.example" in m.text for m in channel.messages))
        assert (await participant(warroom, incident.id, people.bob)).added_reason == "Engagement rule: Bob"
        assert await roles(warroom, incident.id, people.bob) == ["observer"]
        await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))

        carol = next(u for u, user in slack.users.items() if user.name == "carol")
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-update-incident", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"description": "Postgres primary is down; checkout fails"})
        await slack.wait_for(lambda: carol in channel.members)
        assert (await participant(warroom, incident.id, carol)).added_reason == "On call for db"
        await slack.wait_for(lambda: ephemerals_for(slack, carol, incident.channel_id))
        # Nobody engaged or suggested twice.
        assert len([c for c in slack.calls_to("conversations.invite") if people.bob in str(c.params)]) == 1
        assert len([m for m in channel.messages if "support@vendor.example" in m.text]) == 1


async def test_engage_oncall_command(slack, people, db_url):
    async with running_warroom(slack, db_url, config_for(slack, people)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        carol = next(u for u, user in slack.users.items() if user.name == "carol")
        before = set(slack.views)
        await slack.slash_command(people.bob, "/dispatch-engage-oncall", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.bob) if v.id not in before]))[-1]
        await slack.submit_view(people.bob, view.id, {"service": "db", "page": ["page"]})
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: any("engaged the db on-call and paged" in m.text for m in channel.messages))
        assert carol in channel.members
        await slack.wait_for(lambda: ("db", incident.name, incident.title) in warroom.deps.ports.oncall.pages)
        assert any(e.startswith("db on-call engaged: 1 people (paged)") for e in await events(warroom, incident.id))
        await slack.wait_for(lambda: ephemerals_for(slack, carol, incident.channel_id))

        await slack.slash_command(people.bob, "/dispatch-engage-oncall", channel=people.general)
        refusal = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, people.general))
        assert "incident channel" in refusal[-1]["text"]


async def test_engage_oncall_without_services(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.alice, "/dispatch-engage-oncall", channel=incident.channel_id)
    answer = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, incident.channel_id))
    assert "No on-call services" in answer[-1]["text"]


async def test_page_commander_priority(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="High")

    async def paged():
        return "Commander paged (High priority)" in await events(warroom, incident.id)

    await slack.wait_for(paged)
    await slack.wait_for(lambda: (people.alice, incident.name, incident.title) in warroom.deps.ports.oncall.pages)
    low = await report(slack, warroom, people.alice, people.general, title="Minor glitch")
    assert not any(p[1] == low.name for p in warroom.deps.ports.oncall.pages)


def notify_config(slack, people, **project):
    feed = slack.add_channel("incidents-feed", members=[people.alice, people.bob], bot_member=True)
    sec = slack.add_channel("security-feed", members=[people.alice], bot_member=True)
    config = WarroomConfig.model_validate({"notification_channels": [
        {"name": "feed", "channel": feed},
        {"name": "security", "channel": sec, "incident_types": ["Security"]},
    ]})
    for key, value in project.items():
        setattr(config.projects[0], key, value)
    return config, feed, sec


async def test_announcement_edited_in_place_join_and_subscribe(slack, people, db_url):
    config, feed, sec = notify_config(slack, people)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        feed_channel = slack.channels[feed]
        await slack.wait_for(lambda: feed_channel.messages)
        assert not slack.channels[sec].messages, "type filter"
        announcement = feed_channel.messages[0]
        assert incident.title in str(announcement.blocks)

        await slack.click(people.bob, "announcement_join", value=incident.name, channel=feed, message_ts=announcement.ts)
        await slack.wait_for(lambda: people.bob in slack.channels[incident.channel_id].members)
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, feed) if "You joined" in e["text"]])
        await slack.click(people.bob, "announcement_subscribe", value=incident.name, channel=feed, message_ts=announcement.ts)
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, feed) if "stakeholder updates" in e["text"]])
        async with warroom.deps.sessions() as session:
            detail = (await session.execute(select(IncidentDetail))).scalar_one()
        assert detail.notify_user_ids == [people.bob]

        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-update-incident", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"title": "Checkout fully down"})
        await slack.wait_for(lambda: "Checkout fully down" in str(feed_channel.messages[0].blocks))
        assert len(feed_channel.messages) == 1, "edited in place, never re-posted"
        assert slack.calls_to("chat.update")


async def test_restricted_incident_never_announced_and_join_refused(slack, people, db_url):
    config, feed, sec = notify_config(slack, people)
    async with running_warroom(slack, db_url, config) as warroom:
        secret = await report(slack, warroom, people.alice, people.general, title="Key leak", private=["restricted"])
        public = await report(slack, warroom, people.alice, people.general, title="Slow pages")
        await slack.wait_for(lambda: slack.channels[feed].messages)
        assert all(secret.name not in str(m.blocks) for m in slack.channels[feed].messages + slack.channels[sec].messages)
        async with warroom.deps.sessions() as session:
            rows = (await session.execute(select(IncidentAnnouncement))).scalars().all()
        assert [r.incident_id for r in rows] == [public.id]
        # A forged click on a restricted incident is refused.
        ts = slack.channels[feed].messages[0].ts
        await slack.click(people.bob, "announcement_join", value=secret.name, channel=feed, message_ts=ts)
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, feed) if "cannot join" in e["text"]])
        assert people.bob not in slack.channels[secret.channel_id].members


async def test_self_join_off_hides_join_button(slack, people, db_url):
    config, feed, _ = notify_config(slack, people, allow_self_join=False)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await slack.wait_for(lambda: slack.channels[feed].messages)
        blocks = str(slack.channels[feed].messages[0].blocks)
        assert "announcement_subscribe" in blocks and "announcement_join" not in blocks
        assert incident.title in blocks


async def test_announcement_redacted_when_made_restricted(slack, people, db_url):
    config, feed, _ = notify_config(slack, people)
    async with running_warroom(slack, db_url, config) as warroom:
        # Reported private (so its channel is private), then opened up, announced, and restricted again.
        incident = await report(slack, warroom, people.alice, people.general, title="Odd logins", private=["restricted"])

        async def update(values):
            before = set(slack.views)
            await slack.slash_command(people.alice, "/dispatch-update-incident", channel=incident.channel_id)
            view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
            await slack.submit_view(people.alice, view.id, values)

        await update({"visibility": "Open"})
        await slack.wait_for(lambda: slack.channels[feed].messages)
        await update({"visibility": "Restricted", "title": "Credential stuffing"})
        await slack.wait_for(lambda: "no longer public" in slack.channels[feed].messages[0].text)
        assert "Credential stuffing" not in str(slack.channels[feed].messages[0].blocks)
        assert len(slack.channels[feed].messages) == 1


async def test_a_swapped_oncall_port_is_the_one_the_bot_uses(slack, people, db_url):
    """The harness's `ports=` override: Slack stays the emulator, on-call becomes a recording port."""
    dave = slack.add_user("dave", real_name="Dave On-call")
    oncall = RecordingOncall(schedule={"db": [dave]})
    async with running_warroom(slack, db_url, config_for(slack, people), ports={"oncall": oncall}) as warroom:
        assert warroom.deps.ports.oncall is oncall
        incident = await report(slack, warroom, people.alice, people.general)
        before = set(slack.views)
        await slack.slash_command(people.bob, "/dispatch-engage-oncall", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.bob) if v.id not in before]))[-1]
        await slack.submit_view(people.bob, view.id, {"service": "db", "page": ["page"]})
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: dave in channel.members)
        await slack.wait_for(lambda: ("service", "db", incident.name) in oncall.pages)


async def test_an_engaged_person_slack_would_not_invite_is_invited_when_the_set_up_resumes(slack, people, db_url):
    """The channel works at once; the engagement's invitation, refused by Slack, is not lost: the set-up stays
    unfinished (the reporter is not alarmed) and its resumption invites whom the engagement recorded."""
    slack.inject("conversations.invite", status=503, times=3, when=lambda p: p.get("users") == people.bob)
    async with running_warroom(slack, db_url, config_for(slack, people)) as warroom:
        await slack.slash_command(people.alice, REPORT, channel=people.general)
        view = (await slack.wait_for(lambda: slack.open_views(people.alice)))[-1]
        await slack.submit_view(people.alice, view.id, {**GOOD, "title": "Checkout: gateway timeouts!"})

        async def setup_row():
            async with warroom.deps.sessions() as session:
                return (await session.execute(select(Incident))).scalars().first()

        row = await slack.wait_for(lambda: _unfinished(setup_row()), timeout=15)
        incident, channel = row, slack.channels[row.channel_id]
        assert "engagement" in row.setup_error and row.setup_state != "ready"
        assert people.alice in channel.members and people.bob not in channel.members
        assert not [m for m in slack.dm_messages(people.alice) if "delayed" in m.text.lower()], "no false alarm"

        await resume_setups.run(warroom.deps)
        await slack.wait_for(lambda: people.bob in channel.members)
        row = await setup_row()
        assert (row.setup_state, row.setup_error) == ("ready", None)
        summaries = [m for m in channel.messages if m.user == slack.bot_user_id and m.text.startswith(incident.name)]
        assert len(summaries) == 1, "resuming posts nothing twice"
        confirmations = [e for e in slack.ephemerals if e["user"] == people.alice and "incident commander" in e["text"]]
        assert len(confirmations) == 1


async def _unfinished(row_coro):
    row = await row_coro
    return row if row is not None and row.setup_error else None
