"""Response cost: people talk in the incident channel, the cost job runs, the summary shows the cost."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cli import build_parser, costs_command
from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.cost_polling import poll_costs
from emulators.slackemu.state import Message
from jobs import cost_polling, daily_summary
from jobs.runner import run_job
from storage.case_models import Case
from storage.models import Incident
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for, events, report

CONFIG = {
    "costs": {
        "annual_employee_cost": 208000, "business_year_hours": 2080,  # 100 an hour
        "models": [{"name": "chatty", "activities": [
            {"activity": "slack_channel_activity", "response_time_seconds": 300},
            {"activity": "slack_thread_activity", "response_time_seconds": 120}]}],
        "incident_types": {"Reliability": "chatty"},
    },
}


async def post(slack, warroom, user, channel, text, thread_ts=None) -> str:
    """A person says something; returns once the bot has handled the message event."""
    ts = await slack.post_message(user, channel, text, thread_ts=thread_ts)
    await warroom.registry.drain()
    return ts


def _summary_text(slack, incident) -> str:
    return str(slack.channels[incident.channel_id].find(incident.summary_message_ts).blocks)


async def test_messages_become_cost_on_the_summary_once_even_across_a_failed_run_and_a_restart(slack, people, db_url):
    carol = slack.add_user("carol", real_name="Carol Dev")
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Cost me")
        channel = incident.channel_id
        await slack.join(people.bob, channel)
        await slack.join(carol, channel)
        first = await post(slack, warroom, people.alice, channel, "looking at the 502s")
        await post(slack, warroom, people.bob, channel, "db is fine")
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        # Alice and Bob: one 300 s span each, 600 s at 100/h
        assert "$16.67" in _summary_text(slack, incident)

        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$16.67" in _summary_text(slack, incident)  # nothing new, nothing added

        await post(slack, warroom, carol, channel, "rolled back", thread_ts=first)
        slack.inject("conversations.replies", error="internal_error")
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "failed"  # read, never stored
        assert "$16.67" in _summary_text(slack, incident)

    async with running_warroom(slack, db_url, config) as warroom:  # a restart
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$20.00" in _summary_text(slack, incident)  # + Carol's 120 s thread reply, once
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$20.00" in _summary_text(slack, incident)


async def test_joining_the_channel_without_saying_anything_costs_nothing_in_an_activity_model(slack, people, db_url):
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Lurkers")
        channel = incident.channel_id
        await slack.join(people.bob, channel)  # Slack lists a channel_join message in the history
        assert any(m.subtype == "channel_join" for m in slack.channels[channel].messages)
        stats = await cost_polling.run(warroom.deps)
        assert stats["calls"] == 1 and stats["messages"] == 0
        assert "Response cost" not in _summary_text(slack, incident)  # no work counted yet

        await post(slack, warroom, people.alice, channel, "on it")
        stats = await cost_polling.run(warroom.deps)
        assert stats["messages"] == 1
        assert "$8.33" in _summary_text(slack, incident)  # Alice's 300 s; Bob's join counts nothing


async def test_a_429_is_waited_out_for_its_retry_after_then_the_run_goes_on(slack, people, db_url):
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Throttled")
        await post(slack, warroom, people.alice, incident.channel_id, "looking")
        slack.inject("conversations.history", status=429, retry_after=1)
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        calls = slack.calls_to("conversations.history")
        assert [c.status for c in calls] == [429, 200]
        assert calls[1].ts - calls[0].ts >= 0.95, "the retry waited for Retry-After"
        assert "$8.33" in _summary_text(slack, incident)


async def test_rate_limited_past_the_retries_the_run_stops_and_the_next_one_counts_it_once(slack, people, db_url):
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        first = await report(slack, warroom, people.alice, people.general, title="First")
        second = await report(slack, warroom, people.alice, people.general, title="Second")
        for incident in (first, second):
            await post(slack, warroom, people.alice, incident.channel_id, "looking")
        slack.inject("conversations.history", status=429, retry_after=0, times=4)  # the client retries 3 times
        stats = await cost_polling.run(warroom.deps)
        assert stats["rate_limited"] == 1 and stats["deferred"] == 2 and stats["incidents"] == 0
        assert len(slack.calls_to("conversations.history")) == 4, "no call for the second incident once limited"
        assert "Response cost" not in _summary_text(slack, first)

        stats = await cost_polling.run(warroom.deps)
        assert stats["incidents"] == 2 and stats["rate_limited"] == 0
        for incident in (first, second):
            assert "$8.33" in _summary_text(slack, incident)


async def test_the_call_budget_spreads_incidents_over_runs_and_counts_each_once(slack, people, db_url):
    config = WarroomConfig.model_validate({"costs": {**CONFIG["costs"], "calls_per_run": 2}})
    async with running_warroom(slack, db_url, config) as warroom:
        incidents = [await report(slack, warroom, people.alice, people.general, title=f"Busy {i}") for i in range(3)]
        for incident in incidents:
            await post(slack, warroom, people.alice, incident.channel_id, "looking")
        before = len(slack.calls_to("conversations.history"))
        stats = await cost_polling.run(warroom.deps)
        assert (stats["calls"], stats["incidents"], stats["deferred"]) == (2, 2, 1)
        assert len(slack.calls_to("conversations.history")) - before == 2, "never more calls than the budget"
        costed = [i for i in incidents if "$8.33" in _summary_text(slack, i)]
        assert len(costed) == 2

        stats = await cost_polling.run(warroom.deps)  # the deferred incident goes first; nothing new elsewhere
        assert (stats["calls"], stats["incidents"], stats["deferred"]) == (1, 3, 0)
        assert all("$8.33" in _summary_text(slack, i) for i in incidents)
        for _ in range(2):
            await cost_polling.run(warroom.deps)
        assert all("$8.33" in _summary_text(slack, i) for i in incidents), "nothing counted twice"


async def test_a_case_worked_in_its_card_thread_is_costed_on_its_card(slack, people, db_url):
    security = slack.add_channel("security", members=[people.alice, people.bob], bot_member=True)
    config = WarroomConfig.model_validate({
        "cases": {"types": [{"name": "Security triage", "default": True, "conversation_target": security}]},
        "costs": {**CONFIG["costs"], "case_types": {"Security triage": "chatty"}},
    })
    async with running_warroom(slack, db_url, config) as warroom:
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-create-case", channel=people.general, text="Odd logins")
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"description": "Three accounts"})
        card = await slack.wait_for(lambda: next((m for m in slack.channels[security].messages
                                                  if m.text.startswith("CASE-1")), None))

        async def card_stored():
            async with warroom.deps.sessions() as session:
                return (await session.execute(select(Case).where(Case.card_ts == card.ts))).scalar_one_or_none()

        await slack.wait_for(card_stored)
        await post(slack, warroom, people.alice, security, "checking the exit node", thread_ts=card.ts)
        await post(slack, warroom, people.bob, security, "blocked it", thread_ts=card.ts)
        await post(slack, warroom, people.bob, security, "unrelated chatter in the channel")  # not the case's
        stats = await cost_polling.run(warroom.deps)
        assert stats["cases"] == 1 and stats["messages"] == 2
        # two 120 s thread replies at 100 an hour
        await slack.wait_for(lambda: "$6.67" in str(slack.channels[security].find(card.ts).blocks))

        stats = await cost_polling.run(warroom.deps)
        assert (stats["calls"], stats["messages"]) == (0, 0), "no message event since the last read: no call"
        dave = slack.add_user("dave")
        await slack.join(dave, security)
        await post(slack, warroom, dave, security, "seen this before", thread_ts=card.ts)
        stats = await cost_polling.run(warroom.deps)
        assert stats["messages"] == 1
        await slack.wait_for(lambda: "$10.00" in str(slack.channels[security].find(card.ts).blocks))


async def test_costs_command_lists_every_incident_by_model_and_participant(slack, people, db_url, capsys):
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Finance wants this")
        await slack.join(people.bob, incident.channel_id)
        await post(slack, warroom, people.alice, incident.channel_id, "first")
        await post(slack, warroom, people.bob, incident.channel_id, "second")
        await cost_polling.run(warroom.deps)
    capsys.readouterr()

    assert await costs_command(db_url, argparse.Namespace(since=None, format="json")) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert (item["name"], item["kind"], item["amount"]) == (incident.name, "incident", 16.67)
    [model] = item["models"]
    assert model["model"] == "chatty"
    assert {(p["user_id"], p["name"], p["amount"], p["activities"]) for p in model["participants"]} == {
        (people.alice, "Alice Ops", 8.33, 1), (people.bob, "Bob Sec", 8.33, 1)}

    assert await costs_command(db_url, argparse.Namespace(since=None, format="csv")) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["model"], r["user_id"], r["amount"]) for r in rows] == [
        ("chatty", "", "16.67"), ("chatty", people.alice, "8.33"), ("chatty", people.bob, "8.33")]

    assert await costs_command(db_url, argparse.Namespace(since=None, format="table")) == 0
    table = capsys.readouterr().out
    assert "Finance wants this" in table and "Alice Ops" in table and "response cost $16.67" in table

    later = datetime.now(UTC) + timedelta(days=1)
    assert await costs_command(db_url, argparse.Namespace(since=later, format="table")) == 0
    assert "0 incident(s) and case(s) since" in capsys.readouterr().out

    with pytest.raises(SystemExit):
        build_parser().parse_args(["costs", "--since", "last week"])
    assert "'last week' is not a date: write it as YYYY-MM-DD" in capsys.readouterr().err


async def test_the_closing_summary_shows_the_cost_and_takes_the_review_hours_in_place(slack, people, db_url):
    config = WarroomConfig.model_validate({"costs": {"annual_employee_cost": 208000, "business_year_hours": 2080}})
    async with running_warroom(slack, db_url, config) as warroom:  # classic model: role time, review on close
        incident = await report(slack, warroom, people.alice, people.general, title="Classic")
        channel = slack.channels[incident.channel_id]
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert not slack.calls_to("conversations.history"), "the classic model reads no history"
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-update-incident", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"status": "Closed", "incident_severity": "Minor",
                                                         "resolution": "Rolled back"})
        closing = await slack.wait_for(lambda: next((m for m in channel.messages if "is closed after" in m.text), None))
        assert re.search(r"Response cost: \$0\.\d\d\.", closing.text), closing.text  # seconds of commander time

        async def closing_recorded():  # the update's channel effects are over, the message's ts stored
            async with warroom.deps.sessions() as session:
                return (await session.get(Incident, incident.id, populate_existing=True)).closing_message_ts

        assert await slack.wait_for(closing_recorded, timeout=15) == closing.ts

        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"  # the closed incident's last run
        # review hours: 1 + 0.5 x 1 participant = 1.5 h at 100 an hour, edited into the same message
        assert re.search(r"Response cost: \$150\.\d\d\.", channel.find(closing.ts).text), channel.find(closing.ts).text
        assert re.search(r"Response cost\* \$150\.\d\d", _summary_text(slack, incident))
        text = channel.find(closing.ts).text
        assert (await cost_polling.run(warroom.deps))["incidents"] == 0, "closed and costed: never again"
        assert channel.find(closing.ts).text == text
        assert len([m for m in channel.messages if "is closed after" in m.text]) == 1


async def test_the_cost_shows_in_the_list_the_app_home_the_daily_summary_and_executive_reports(slack, people, db_url):
    room = slack.add_channel("incidents", members=[people.bob])
    config = WarroomConfig.model_validate({**CONFIG, "notification_channels": [{"name": "incidents", "channel": room}]})
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Seen everywhere")
        quiet = await report(slack, warroom, people.alice, people.general, title="Quiet one")
        await post(slack, warroom, people.alice, incident.channel_id, "on it")
        await cost_polling.run(warroom.deps)  # the quiet one: nothing said, no cost row

        await slack.slash_command(people.alice, "/dispatch-list-incidents", channel=people.general)
        listing = (await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                                 if e["text"].startswith("Incidents:")]))[-1]["text"]
        line = next(x for x in listing.splitlines() if incident.name in x)
        assert line.endswith("cost $8.33"), line
        assert "cost" not in next(x for x in listing.splitlines() if quiet.name in x)

        await slack.open_home(people.alice)
        home = await slack.wait_for(lambda: next((v for v in slack.views.values()
                                                  if v.type == "home" and v.user == people.alice), None))
        assert "cost $8.33" in str(home.view["blocks"])

        assert await daily_summary.run(warroom.deps) == 1
        (summary,) = [m for m in slack.channels[room].messages if m.text.startswith("Incident summary")]
        sections = [b["text"]["text"] for b in summary.blocks if b["type"] == "section"]
        assert any(incident.name in s and "cost $8.33" in s for s in sections)
        assert any(quiet.name in s and "cost" not in s for s in sections)

        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-report-executive", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"current_status": "Mitigated", "overview": "EU checkout",
                                                        "next_steps": "Postmortem"})
        posted = await slack.wait_for(lambda: [m for m in slack.channels[incident.channel_id].messages
                                               if m.text.startswith("Executive report")])
        assert "Response cost so far* $8.33" in str(posted[-1].blocks)


async def test_only_conversations_with_a_message_event_are_read_and_a_missed_event_waits_for_the_sweep(
        slack, people, db_url):
    config = WarroomConfig.model_validate({"costs": {**CONFIG["costs"], "sweep_minutes": 60}})
    async with running_warroom(slack, db_url, config) as warroom:
        busy = await report(slack, warroom, people.alice, people.general, title="Busy")
        idle = await report(slack, warroom, people.alice, people.general, title="Idle")
        assert (await cost_polling.run(warroom.deps))["calls"] == 2  # first read of each
        assert (await cost_polling.run(warroom.deps))["calls"] == 0  # nothing said anywhere: Slack is not asked

        await post(slack, warroom, people.alice, busy.channel_id, "on it")
        await post(slack, warroom, people.alice, busy.channel_id, "still on it")
        stats = await cost_polling.run(warroom.deps)
        assert (stats["calls"], stats["messages"]) == (1, 2), "only the channel that had something new"
        history = slack.calls_to("conversations.history")
        assert history[-1].params["channel"] == busy.channel_id

        # An event the bot never got (a reconnect): the message waits for the sweep, then counts once.
        slack.channels[idle.channel_id].messages.append(Message(slack.new_ts(), people.alice, "said while away"))
        assert (await cost_polling.run(warroom.deps))["calls"] == 0
        stats = await poll_costs(warroom.deps, now=utcnow() + timedelta(minutes=61))
        assert stats.calls == 2 and stats.messages == 1
        assert "$8.33" in _summary_text(slack, idle)


CUSTOM = {"costs": {"annual_employee_cost": 208000, "business_year_hours": 2080, "custom_types": [
    {"name": "Lost revenue", "description": "Orders that failed"}, {"name": "Customer credits"}]}}


async def open_cost_form(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, "/dispatch-update-cost", channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_custom_costs_are_entered_in_a_form_and_shown_beside_the_response_cost(slack, people, db_url):
    async with running_warroom(slack, db_url, WarroomConfig.model_validate(CUSTOM)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Checkout down")
        view = await open_cost_form(slack, people.alice, incident.channel_id)
        labels = [b["label"]["text"] for b in view.view["blocks"] if b["type"] == "input"]
        assert labels == ["Lost revenue", "Customer credits"]

        result = await slack.submit_view(people.alice, view.id, {"cost_0": "lots", "cost_1": "-5"})
        assert result.ack_payload["errors"] == {
            "cost_0": "Not an amount: write a number such as 12500 or 12,500.00",
            "cost_1": "Write an amount between 0 and 1,000,000,000,000"}
        assert slack.views[view.id].state == "open", "nothing typed is lost"

        await slack.submit_view(people.alice, view.id, {"cost_0": "$12,500", "cost_1": " 300.5 "})
        await slack.wait_for(lambda: "Customer credits" in _summary_text(slack, incident))
        summary = _summary_text(slack, incident)
        assert "*Lost revenue* $12,500.00" in summary and "*Customer credits* $300.50" in summary
        assert "Alice Ops set Lost revenue: $12,500.00; Customer credits: $300.50" in await events(warroom, incident.id)

        view = await open_cost_form(slack, people.alice, incident.channel_id)  # pre-filled; a blank clears
        values = [b["element"].get("initial_value") for b in view.view["blocks"] if b["type"] == "input"]
        assert values == ["12,500.00", "300.50"]
        await slack.submit_view(people.alice, view.id, {"cost_0": "12,500.00", "cost_1": ""})
        await slack.wait_for(lambda: "Customer credits" not in _summary_text(slack, incident))
        assert "*Lost revenue* $12,500.00" in _summary_text(slack, incident)

        await slack.join(people.bob, incident.channel_id)  # not the commander: refused
        await slack.slash_command(people.bob, "/dispatch-update-cost", channel=incident.channel_id)
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, incident.channel_id)
                                      if "Only the incident commander, scribes can run `/dispatch-update-cost`"
                                      in e["text"]])
        assert not [v for v in slack.open_views(people.bob)]


async def test_update_cost_says_so_when_no_custom_cost_type_is_configured(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.slash_command(people.alice, "/dispatch-update-cost", channel=incident.channel_id)
    [answer] = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, incident.channel_id))
    assert "No custom cost types are configured (costs.custom_types" in answer["text"]


async def test_two_processes_firing_the_job_at_once_cost_once(slack, people, db_url):
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Twice?")
        await post(slack, warroom, people.alice, incident.channel_id, "on it")
        slack.faults.latency = 0.2  # the first run is still reading when the second fires
        outcomes = await asyncio.gather(
            run_job("cost_polling", cost_polling.run, warroom.deps, holder="a"),
            run_job("cost_polling", cost_polling.run, warroom.deps, holder="b"))
        slack.faults.latency = 0
        assert sorted(outcomes) == ["ran", "skipped"]
        assert len(slack.calls_to("conversations.history")) == 1
        assert "$8.33" in _summary_text(slack, incident)


async def test_a_classic_case_counts_its_people_from_when_they_joined_it(slack, people, db_url):
    security = slack.add_channel("security", members=[people.alice, people.bob], bot_member=True)
    config = WarroomConfig.model_validate({
        "cases": {"types": [{"name": "Security triage", "default": True, "conversation_target": security}]},
        "costs": {"annual_employee_cost": 208000, "business_year_hours": 2080},  # classic: no model named
    })
    async with running_warroom(slack, db_url, config) as warroom:
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-create-case", channel=people.general, text="Odd logins")
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"description": "Three accounts"})
        card = await slack.wait_for(lambda: next((m for m in slack.channels[security].messages
                                                  if m.text.startswith("CASE-1")), None))

        async def case_row():
            async with warroom.deps.sessions() as session:
                return (await session.execute(select(Case).where(Case.card_ts == card.ts))).scalar_one_or_none()

        case = await slack.wait_for(case_row)
        assert case.reporter == people.alice and case.assignee is None
        stats = await poll_costs(warroom.deps, now=case.created_at + timedelta(hours=2))
        assert stats.cases == 1 and stats.calls == 0, "classic reads no history"
        # Alice, the reporter, for two hours (less the instant between opening and joining) at half weight
        await slack.wait_for(lambda: "Response cost* $100.00" in str(slack.channels[security].find(card.ts).blocks))


async def test_a_type_change_switches_the_cost_model_from_then_on(slack, people, db_url, capsys):
    config = WarroomConfig.model_validate(CONFIG)  # Reliability: chatty; Privacy: classic
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Switch")
        await slack.join(people.bob, incident.channel_id)
        await post(slack, warroom, people.alice, incident.channel_id, "counted by chatty")
        await cost_polling.run(warroom.deps)
        assert "$8.33" in _summary_text(slack, incident)

        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-update-incident", channel=incident.channel_id)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"incident_type": "Privacy"})
        await slack.wait_for(lambda: any("Privacy" in m.text for m in slack.channels[incident.channel_id].messages))
        await warroom.registry.drain()  # the watcher assigning the new model ran
        await asyncio.sleep(1.1)  # activity models count whole seconds from the change
        await post(slack, warroom, people.bob, incident.channel_id, "said under the classic model")
        stats = await cost_polling.run(warroom.deps)
        assert stats["messages"] == 1
    capsys.readouterr()
    assert await costs_command(db_url, argparse.Namespace(since=None, format="json")) == 0
    [item] = json.loads(capsys.readouterr().out)
    models = {m["model"]: m for m in item["models"]}
    assert set(models) == {"chatty", "classic"}
    assert models["chatty"]["amount"] == 8.33, "Bob's message, after the change, is not chatty's"
    assert [p["user_id"] for p in models["chatty"]["participants"]] == [people.alice]
    assert 0 < models["classic"]["amount"] < 1, "role time since the change only (seconds of it)"


async def test_an_incident_reported_already_closed_is_costed_once_in_its_closing_summary(slack, people, db_url):
    config = WarroomConfig.model_validate({"costs": {"annual_employee_cost": 208000, "business_year_hours": 2080}})
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, status="Closed",
                                incident_severity="Minor")
        channel = slack.channels[incident.channel_id]
        await slack.wait_for(lambda: channel.is_archived)
        closing = next(m for m in channel.messages if "is closed after" in m.text)
        assert "Response cost" not in closing.text  # nothing costed yet
        assert (await cost_polling.run(warroom.deps))["incidents"] == 1
        # review hours of its one participant: 1.5 h at 100 an hour (its roles ended as it was reported)
        assert re.search(r"Response cost: \$150\.\d\d\.", channel.find(closing.ts).text), channel.find(closing.ts).text
        assert (await cost_polling.run(warroom.deps))["incidents"] == 0, "once"
