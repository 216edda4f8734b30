"""Cases as complete as incidents: status and resolution from the Edit form, closed with their incident,
reminders, case channels that behave like incident channels."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import case_feedback_digest, case_reminders
from jobs.runner import Interval, run_job
from storage.case_models import Case, CaseEvent, CaseFeedback, CaseParticipant
from storage.models import Incident
from tests.e2e.case_helpers import (
    UPDATE,
    block,
    buttons,
    card_text,
    cards,
    case_events,
    case_participants,
    case_row,
    new_view,
    open_case,
    thread_text,
)
from tests.e2e.incident_helpers import ephemerals_for
from tests.e2e.incident_helpers import events as incident_events


class World:
    def __init__(self, slack, people, warroom, security, carol):
        self.slack, self.people, self.warroom, self.security, self.carol = slack, people, warroom, security, carol


def world_config(security, carol, bob, nina, insider=None, **cases) -> WarroomConfig:
    return WarroomConfig.model_validate({
        "oncall": {"schedules": {"secops": [carol], "sre": [bob], "netops": [nina]}},
        "cases": {"types": [
            {"name": "Security triage", "default": True, "conversation_target": security, "oncall_service": "secops"},
            {"name": "Reliability triage", "oncall_service": "sre"},
            *([{"name": "Insider threat", "visibility": "Restricted", "conversation_target": insider,
                "oncall_service": "secops"}] if insider else []),
        ], "priorities": [
            {"name": "Low"}, {"name": "Medium", "default": True}, {"name": "High"},
            {"name": "Critical", "page_assignee": True},
        ], **cases},
    })


@pytest.fixture
async def world(slack, people, db_url):
    """#security receives Security triage cards; carol is on call for secops (the type's service)."""
    carol = slack.add_user("carol", real_name="Carol Oncall")
    nina = slack.add_user("nina", real_name="Nina Netops")  # on call for netops
    eve = slack.add_user("eve", real_name="Eve Analyst")  # reads #insider, works no case
    security = slack.add_channel("security", members=[people.alice, people.bob], bot_member=True)
    insider = slack.add_channel("insider", members=[people.alice, carol, eve], is_private=True, bot_member=True)
    async with running_warroom(slack, db_url, world_config(security, carol, people.bob, nina, insider)) as warroom:
        w = World(slack, people, warroom, security, carol)
        w.nina, w.eve, w.insider = nina, eve, insider
        yield w


async def test_edit_form_moves_status_and_sets_the_resolution(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security)
    shown = lambda: slack.channels[w.security].find(card.ts)  # noqa: E731

    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=w.security,
                                                                 message_ts=card.ts))
    assert block(view, "case_status")["element"]["initial_option"]["value"] == "New"
    assert [o["value"] for o in block(view, "case_status")["element"]["options"]] == \
        ["New", "Triage", "Escalated", "Stable", "Closed"]
    bad = await slack.submit_view(people.bob, view.id, {"case_status": "Escalated"})
    assert "Use Escalate" in bad.ack_payload["errors"]["case_status"], "Escalated only through Escalate"
    bad = await slack.submit_view(people.bob, view.id, {"case_status": "Closed"})
    assert set(bad.ack_payload["errors"]) == {"reason", "resolution"}, "Closed needs a reason and a resolution"
    await slack.submit_view(people.bob, view.id, {"case_status": "Stable"})
    await slack.wait_for(lambda: "(Stable)" in shown().text)
    case = await case_row(w.warroom)
    assert case.status == "Stable" and case.stable_at is not None
    assert any("status: New -> Stable" in e for e in await case_events(w.warroom, case.id))

    # A form opened before someone resolved the case leaves the status alone (it was not touched).
    stale = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_edit", channel=w.security,
                                                                    message_ts=card.ts))
    resolve = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_resolve", channel=w.security,
                                                                    message_ts=card.ts))
    await slack.submit_view(people.bob, resolve.id, {"reason": "Benign", "resolution": "Known scanner"})
    await slack.wait_for(lambda: "(Closed)" in shown().text)
    await slack.submit_view(people.alice, stale.id, {"case_severity": "High"})
    await slack.wait_for(lambda: "High" in card_text(shown()))
    case = await case_row(w.warroom)
    assert (case.status, case.severity, case.resolution_reason, case.resolution) == \
        ("Closed", "High", "Benign", "Known scanner")
    assert buttons(shown()) == ["Edit", "Reopen", "Join"], "a Closed case can still be edited"

    # /dispatch-update-case by name: the same form; a Closed case goes back to Triage and forgets its resolution.
    view = await new_view(slack, people.bob, lambda: slack.slash_command(people.bob, UPDATE, channel=people.general,
                                                                         text="CASE-1"))
    assert block(view, "case_status")["element"]["initial_option"]["value"] == "Closed"
    assert block(view, "reason")["element"]["initial_option"]["value"] == "Benign"
    assert block(view, "resolution")["element"]["initial_value"] == "Known scanner"
    bad = await slack.submit_view(people.bob, view.id, {"case_status": "New"})
    assert "cannot be New again" in bad.ack_payload["errors"]["case_status"]
    await slack.submit_view(people.bob, view.id, {"case_status": "Triage"})
    await slack.wait_for(lambda: "(Triage)" in shown().text)
    case = await case_row(w.warroom)
    assert (case.resolution_reason, case.resolution, case.closed_at) == (None, None, None)

    # Closed from the form, with its reason, shows on the card.
    view = await new_view(slack, people.bob, lambda: slack.slash_command(people.bob, UPDATE, channel=people.general,
                                                                         text="CASE-1"))
    await slack.submit_view(people.bob, view.id, {"case_status": "Closed", "reason": "False Positive",
                                                  "resolution": "Pentest traffic"})
    await slack.wait_for(lambda: "(Closed)" in shown().text)
    assert "False Positive" in card_text(shown()) and "Pentest traffic" in card_text(shown())
    assert not [e for e in ephemerals_for(slack, people.bob) if "cannot" in e["text"]]


async def escalate(w, card, user, channel, **values):
    """`user` escalates the case of `card` (in `channel`) from it; returns the incident once its channel is ready."""
    slack = w.slack
    view = await new_view(slack, user, lambda: slack.click(user, "case_escalate", channel=channel,
                                                           message_ts=card.ts))
    await slack.submit_view(user, view.id, {"incident_priority": "High", **values})

    async def ready():
        case = await case_row(w.warroom, int(card.text.split(":")[0].split("-")[1]))
        if case.incident_id is None:
            return None
        async with w.warroom.deps.sessions() as session:
            incident = await session.get(Incident, case.incident_id)
        return incident if incident.setup_state == "ready" and incident.channel_id else None

    return await slack.wait_for(ready)


async def test_closing_the_incident_closes_its_escalated_case_and_says_so_in_the_thread(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security)
    incident = await escalate(w, card, people.alice, w.security)
    await slack.wait_for(lambda: "(Escalated)" in slack.channels[w.security].find(card.ts).text)
    channel = incident.channel_id
    view = await new_view(slack, w.carol, lambda: slack.slash_command(w.carol, "/dispatch-update-incident",
                                                                      channel=channel))
    await slack.submit_view(w.carol, view.id, {"status": "Closed", "resolution": "Accounts reset",
                                               "incident_severity": "Minor"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.security].find(card.ts).text)
    case = await case_row(w.warroom)
    assert (case.status, case.resolution_reason) == ("Closed", "Escalated")
    assert case.resolution == "INC-1 was closed: Accounts reset" and case.closed_at is not None
    shown = slack.channels[w.security].find(card.ts)
    assert "Escalated" in card_text(shown) and "INC-1 was closed" in card_text(shown)
    await slack.wait_for(lambda: "*INC-1* was closed, so *CASE-1* is Closed too"
                         in thread_text(slack, w.security, card.ts))
    assert "Closed because INC-1 was closed" in await case_events(w.warroom, case.id)

    # Reopened and closed again: the case, reopened meanwhile, is closed again, and said once more.
    await slack.click(people.bob, "case_reopen", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    for status in ("Active", "Closed"):
        view = await new_view(slack, w.carol, lambda: slack.slash_command(w.carol, "/dispatch-update-incident",
                                                                          text="INC-1", channel=people.general))
        await slack.submit_view(w.carol, view.id, {"status": status})
        await w.warroom.registry.drain()
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.security].find(card.ts).text)
    notes = [m for m in slack.channels[w.security].replies(card.ts) if "is Closed too" in str(m.blocks)]
    assert len(notes) == 2


async def backdate(w, case_id, by):
    """Make the case (its opening and every timeline entry) `by` older."""
    async with w.warroom.deps.sessions() as session:
        case = await session.get(Case, case_id)
        case.created_at, case.triage_at = case.created_at - by, None
        for entry in (await session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id))).scalars():
            entry.started_at = entry.started_at - by
        await session.commit()


def reminders_to(slack, user):
    return [m for m in slack.dm_messages(user) if m.text.startswith("Reminder: ")]


async def test_case_reminders_once_per_interval_across_processes(world):
    w, slack, people = world, world.slack, world.people
    deps = w.warroom.deps
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security)  # New, assigned to carol
    case = await case_row(w.warroom)
    assert await case_reminders.run(deps) == 0, "not due yet (triage_hours: 4 by default)"

    await backdate(w, case.id, timedelta(hours=5))
    # Two processes run the job at once (each past the job lease: the claim per interval slot still holds).
    sent = await asyncio.gather(case_reminders.run(deps), case_reminders.run(deps))
    assert sorted(sent) == [0, 1]
    (dm,) = reminders_to(slack, w.carol)
    assert "*CASE-1*" in str(dm.blocks) and "has been New for 5 h" in str(dm.blocks)
    assert card.ts.replace(".", "") in str(dm.blocks), "links to the card"
    assert await run_job("case_reminders", case_reminders.run, deps) == "ran"
    assert len(reminders_to(slack, w.carol)) == 1, "once per interval"

    # From the reminder, the assignee triages it.
    await slack.click(w.carol, "case_triage", channel=slack.channels_for_dm(w.carol), message_ts=dm.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)

    # Triage without a change for longer than stale_days (3 by default): reminded again, once.
    assert await case_reminders.run(deps) == 0
    await backdate(w, case.id, timedelta(days=4))
    assert await case_reminders.run(deps) == 1
    assert await case_reminders.run(deps) == 0
    last = reminders_to(slack, w.carol)[-1]
    assert "has been Triage without a change for 4 days" in str(last.blocks)

    # Slack refusing the DM releases the claim: the next run sends it.
    await backdate(w, case.id, timedelta(days=3))
    slack.inject("chat.postMessage", error="fatal_error")
    assert await case_reminders.run(deps) == 0
    assert await case_reminders.run(deps) == 1
    assert len(reminders_to(slack, w.carol)) == 3

    # Closed cases are never reminded; a type with no triage time reminds nobody of New cases.
    view = await new_view(slack, w.carol, lambda: slack.click(w.carol, "case_resolve", channel=w.security,
                                                              message_ts=card.ts))
    await slack.submit_view(w.carol, view.id, {"reason": "Benign", "resolution": "Scanner"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.security].find(card.ts).text)
    await backdate(w, case.id, timedelta(days=30))
    assert await case_reminders.run(deps) == 0


async def test_a_reminder_slack_keeps_refusing_is_given_up_after_five_runs_or_at_once_when_it_cannot_change(
        world, caplog):
    w, slack, people = world, world.slack, world.people
    deps = w.warroom.deps
    await open_case(slack, w.warroom, people.alice, people.general, w.security)  # New, assigned to carol
    case = await case_row(w.warroom)
    await backdate(w, case.id, timedelta(hours=5))
    to_carol = lambda params: params.get("channel") == w.carol  # noqa: E731
    slack.inject("chat.postMessage", error="fatal_error", times=100, when=to_carol)
    caplog.set_level("INFO", logger="domain.cases.reminders")
    for _ in range(7):
        assert await case_reminders.run(deps) == 0
    tries = [c for c in slack.calls_to("chat.postMessage") if to_carol(c.params)]
    assert len(tries) == 5, "five runs tried it, the next ones did not"
    events = await case_events(w.warroom, case.id)
    assert "Reminder not delivered: gave up after 5 attempts (fatal_error)" in events
    assert len([e for e in events if e.startswith("Reminder not delivered (attempt")]) == 4
    gave_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(gave_up) == 1 and gave_up[0].levelname == "WARNING"
    assert not [r for r in caplog.records if r.levelname == "WARNING" and "case" in r.getMessage()
                and "given up" not in r.getMessage()], "the retries are not warnings"

    # The next interval slot, to a deactivated account: given up at the first refusal.
    slack.faults.clear()
    slack.inject("chat.postMessage", error="account_inactive", times=100, when=to_carol)
    await backdate(w, case.id, timedelta(hours=4))
    assert await case_reminders.run(deps) == 0
    assert await case_reminders.run(deps) == 0
    assert len([c for c in slack.calls_to("chat.postMessage") if to_carol(c.params)]) == 6
    assert "Reminder not delivered: gave up after 1 attempt (account_inactive)" in await case_events(w.warroom, case.id)


async def test_case_channel_and_card_thread_feed_the_case_timeline_and_its_people(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security, title="Phishing wave",
                           own_channel=["own_channel"])
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-phishing-wave"))
    await slack.wait_for(lambda: ch.pins)
    case = await case_row(w.warroom)

    # The timeline reaction in the case's channel puts the message on the case timeline, once; removing it takes
    # it off again.
    ts = await slack.post_message(people.alice, ch.id, "The sender domain was registered yesterday")
    await slack.react(people.bob, ch.id, ts, "stopwatch")
    await slack.react(people.alice, ch.id, ts, "stopwatch")
    await slack.wait_for(lambda: "ballot_box_with_check" in ch.find(ts).reactions)
    await w.warroom.registry.drain()
    assert (await case_events(w.warroom, case.id)).count("The sender domain was registered yesterday") == 1
    await slack.unreact(people.bob, ch.id, ts, "stopwatch")
    await w.warroom.registry.drain()
    assert "The sender domain was registered yesterday" in await case_events(w.warroom, case.id), "one reaction left"
    await slack.unreact(people.alice, ch.id, ts, "stopwatch")
    await slack.wait_for(lambda: "ballot_box_with_check" not in ch.find(ts).reactions)
    assert "The sender domain was registered yesterday" not in await case_events(w.warroom, case.id)
    await slack.react(people.bob, ch.id, ts, "stopwatch")
    await slack.wait_for(lambda: "ballot_box_with_check" in ch.find(ts).reactions)

    # "Add to timeline" on a reply in the card's thread.
    reply = await slack.post_message(people.bob, w.security, "Blocked at the gateway", thread_ts=card.ts)
    await slack.message_shortcut(people.bob, "add_to_timeline", w.security, reply)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, w.security)
                                  if e["text"] == "Added to the case timeline."])
    assert "Blocked at the gateway" in await case_events(w.warroom, case.id)
    elsewhere = await slack.post_message(people.bob, people.general, "lunch?")
    await slack.message_shortcut(people.bob, "add_to_timeline", people.general, elsewhere)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, people.general)
                                  if "not an incident channel" in e["text"]])

    # Joining the case channel makes a participant (the card stays current); leaving is recorded.
    dave = slack.add_user("dave")
    await slack.join(dave, ch.id)
    await slack.wait_for(lambda: _participant(w, case.id, dave))
    assert "joined the case channel" in " ".join(await case_events(w.warroom, case.id))
    await slack.leave(dave, ch.id)
    await slack.wait_for(lambda: _left(w, case.id, dave))
    assert f"<@{dave}> left the case channel" in await case_events(w.warroom, case.id)
    late = {"type": "member_joined_channel", "user": dave, "channel": ch.id, "channel_type": "C",
            "team": slack.team_id, "event_ts": f"{time.time() - 60:.6f}"}  # a join Slack delivered after the leave
    await slack.emit_event(late)
    await w.warroom.registry.drain()
    assert await _left(w, case.id, dave)
    await slack.join(dave, ch.id)
    await slack.wait_for(lambda: _participant(w, case.id, dave, active=True))

    # /dispatch-list-participants in the case channel lists who works the case, assignee first.
    view = await new_view(slack, people.bob, lambda: slack.slash_command(people.bob, "/dispatch-list-participants",
                                                                         channel=ch.id))
    listed = [b["text"]["text"] for b in view.view["blocks"] if b["type"] == "section"]
    assert listed[0].startswith(f"*<@{w.carol}>* assignee") and f"<@{dave}>" in " ".join(listed)
    assert "CASE-1 participants" in view.view["title"]["text"]

    # Escalated, the case timeline (with the captured message) comes along.
    incident = await escalate(w, card, people.alice, w.security)
    timeline = await incident_events(w.warroom, incident.id)
    assert "[CASE-1] The sender domain was registered yesterday" in timeline
    assert "[CASE-1] Blocked at the gateway" in timeline


async def _participant(w, case_id, user, active=False):
    async with w.warroom.deps.sessions() as session:
        row = (await session.execute(select(CaseParticipant).where(CaseParticipant.case_id == case_id,
                                                                    CaseParticipant.user_id == user))).scalar_one_or_none()
    return row is not None and (not active or row.left_at is None)


async def _left(w, case_id, user):
    async with w.warroom.deps.sessions() as session:
        row = (await session.execute(select(CaseParticipant).where(CaseParticipant.case_id == case_id,
                                                                    CaseParticipant.user_id == user))).scalar_one_or_none()
    return row is not None and row.left_at is not None


async def test_critical_cases_page_their_assignee_and_engage_oncall_works_in_a_case_channel(world):
    w, slack, people = world, world.slack, world.people
    pages = w.warroom.deps.ports.oncall.pages
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security, case_priority="Critical")
    await slack.wait_for(lambda: (w.carol, "CASE-1", "Odd logins from TOR") in pages)
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=w.security,
                                                                 message_ts=card.ts))
    await slack.submit_view(people.bob, view.id, {"title": "TOR logins"})
    await slack.wait_for(lambda: "TOR logins" in slack.channels[w.security].find(card.ts).text)
    await w.warroom.registry.drain()
    assert len(pages) == 1, "an edit that keeps the assignee and priority pages nobody"
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=w.security,
                                                                 message_ts=card.ts))
    await slack.submit_view(people.bob, view.id, {block(view, "assignee.")["block_id"]: people.bob})
    await slack.wait_for(lambda: (people.bob, "CASE-1", "TOR logins") in pages)
    case = await case_row(w.warroom)
    assert sum(e.startswith("Paged the assignee <@") for e in await case_events(w.warroom, case.id)) == 2

    # A Medium case pages nobody.
    await open_case(slack, w.warroom, people.alice, people.general, w.security, title="Slow VPN")
    await w.warroom.registry.drain()
    assert len(pages) == 2

    # /dispatch-engage-oncall in the case's own channel engages a service's on-call into the case.
    dave = w.nina
    await slack.click(people.bob, "case_create_channel", channel=w.security, message_ts=card.ts)
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-tor-logins"))
    await slack.wait_for(lambda: ch.pins)
    view = await new_view(slack, people.bob, lambda: slack.slash_command(people.bob, "/dispatch-engage-oncall",
                                                                         channel=ch.id))
    assert view.view["callback_id"] == "case_engage_oncall"
    await slack.submit_view(people.bob, view.id, {"service": "netops", "page": ["page"]})
    await slack.wait_for(lambda: dave in ch.members)
    await slack.wait_for(lambda: any("engaged the netops on-call and paged" in str(m.blocks) for m in ch.messages))
    await slack.wait_for(lambda: ("netops", "CASE-1", "TOR logins") in pages)
    assert dave in await case_participants(w.warroom, case.id)
    assert any(e.startswith("netops on-call engaged by") for e in await case_events(w.warroom, case.id))
    # Elsewhere (not an incident or case channel) the command explains as before.
    await slack.slash_command(people.bob, "/dispatch-engage-oncall", channel=people.general)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, people.general))


async def test_a_restricted_case_type_keeps_its_cards_in_its_channel_and_its_work_to_its_people(world):
    w, slack, people = world, world.slack, world.people
    eve = w.eve
    await slack.join(eve, people.general)
    card = await open_case(slack, w.warroom, people.alice, people.general, w.insider, title="Badge misuse",
                           case_type="Insider threat")
    assert not cards(slack, people.general), "never where it was opened"
    case = await case_row(w.warroom)
    assert case.card_channel_id == w.insider

    # Eve reads #insider but does not work the case: Join refuses, replying does not make her a participant, and
    # naming it from elsewhere or opening her Home shows nothing of it.
    await slack.click(eve, "case_join", channel=w.insider, message_ts=card.ts)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, eve, w.insider))
    assert "CASE-1 is restricted" in refusal[-1]["text"]
    await slack.post_message(eve, w.insider, "Want help?", thread_ts=card.ts)
    await w.warroom.registry.drain()
    assert eve not in await case_participants(w.warroom, case.id)
    await slack.slash_command(eve, UPDATE, channel=people.general, text="CASE-1")
    said = await slack.wait_for(lambda: ephemerals_for(slack, eve, people.general))
    assert "works in a case's own channel" in said[-1]["text"]
    await slack.open_home(eve)
    view = await slack.wait_for(lambda: next((v for v in slack.views.values() if v.type == "home" and v.user == eve), None))
    assert "CASE-1" not in str(view.view["blocks"]) and "Badge misuse" not in str(view.view["blocks"])

    # Its own channel is private; escalated, it becomes a Restricted incident.
    await slack.click(people.alice, "case_create_channel", channel=w.insider, message_ts=card.ts)
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-badge-misuse"))
    assert ch.is_private and eve not in ch.members
    await slack.wait_for(lambda: ch.pins)
    incident = await escalate(w, card, people.alice, w.insider)
    assert incident.visibility == "Restricted" and incident.channel_id == ch.id


async def test_a_mention_in_the_case_thread_offers_the_assignee_to_add_them(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security)  # carol is assigned
    case = await case_row(w.warroom)
    dave = slack.add_user("dave")
    await slack.post_message(people.bob, w.security, f"<@{dave}> knows the VPN logs; <@{people.alice}> too",
                             thread_ts=card.ts)
    # Carol is not in #security: the offer comes by DM; alice (the reporter) works the case already.
    offer = await slack.wait_for(lambda: [m for m in slack.dm_messages(w.carol) if "Add them" in str(m.blocks)])
    assert f"<@{dave}>" in str(offer[0].blocks) and f"<@{people.bob}> mentioned" in str(offer[0].blocks)
    await slack.post_message(people.bob, w.security, f"<@{dave}> ping", thread_ts=card.ts)
    await w.warroom.registry.drain()
    assert len([m for m in slack.dm_messages(w.carol) if "Add them" in str(m.blocks)]) == 1, "offered once"
    assert dave not in await case_participants(w.warroom, case.id)

    # Someone not working the case cannot press it (a forwarded button); the assignee can.
    nobody = slack.add_user("zed")
    await slack.join(nobody, w.security)
    await slack.click(w.carol, "case_add_mentioned", channel=slack.channels_for_dm(w.carol), message_ts=offer[0].ts)
    await slack.wait_for(lambda: _participant(w, case.id, dave))
    await slack.wait_for(lambda: [m for m in slack.dm_messages(dave) if "added you to CASE-1" in m.text])
    assert f"<@{dave}> added by <@{w.carol}> after a mention" in await case_events(w.warroom, case.id)
    await slack.click(w.carol, "case_add_mentioned", channel=slack.channels_for_dm(w.carol), message_ts=offer[0].ts)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, w.carol) if "already works on CASE-1" in e["text"]])

    # In the case's own channel too; a Closed case offers nobody.
    await slack.click(people.alice, "case_create_channel", channel=w.security, message_ts=card.ts)
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-odd-logins-from-tor"))
    await slack.wait_for(lambda: ch.pins)
    await slack.post_message(people.alice, ch.id, f"asking <@{nobody}>")
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, w.carol, ch.id) if "Add them" in str(e["blocks"])])


async def test_closing_a_case_asks_its_people_for_feedback_once_each_and_digests_it(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.security)
    await slack.post_message(people.bob, w.security, "On it", thread_ts=card.ts)  # bob works it too
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    view = await new_view(slack, w.carol, lambda: slack.slash_command(w.carol, UPDATE, channel=people.general,
                                                                      text="CASE-1"))
    await slack.submit_view(w.carol, view.id, {"case_status": "Closed", "reason": "Benign", "resolution": "Scanner"})

    def request(user):
        return [m for m in slack.dm_messages(user) if "Give feedback" in str(m.blocks)]

    for user in (people.alice, people.bob, w.carol):
        await slack.wait_for(lambda user=user: request(user))
    dm = slack.channels_for_dm(people.bob)
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_feedback_open", channel=dm,
                                                                 message_ts=request(people.bob)[0].ts))
    assert view.view["callback_id"] == "give_case_feedback" and "CASE-1" in str(view.view["blocks"])
    bad = await slack.submit_view(people.bob, view.id, {})
    assert "rating" in bad.ack_payload["errors"]
    await slack.submit_view(people.bob, view.id, {"rating": "Very satisfied", "comments": "Quick triage"})
    await slack.wait_for(lambda: [m for m in slack.dm_messages(people.bob) if "is recorded" in m.text])
    again = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_feedback_open", channel=dm,
                                                                  message_ts=request(people.bob)[0].ts))
    await slack.submit_view(people.bob, again.id, {"rating": "Very dissatisfied"})
    await slack.wait_for(lambda: [m for m in slack.dm_messages(people.bob) if "first answer is kept" in m.text])
    async with w.warroom.deps.sessions() as session:
        rows = (await session.execute(select(CaseFeedback))).scalars().all()
    assert [(r.user_id, r.rating) for r in rows] == [(people.bob, "Very satisfied")]

    # The assignee's daily digest, once across processes.
    ran = await asyncio.gather(*(run_job("case_feedback_digest", case_feedback_digest.run, w.warroom.deps, holder=h,
                                         interval=Interval(timedelta(days=1))) for h in ("a", "b")))
    assert sorted(ran) == ["ran", "skipped"]
    digest = [m for m in slack.dm_messages(w.carol) if m.text.startswith("Feedback received")]
    assert len(digest) == 1 and "Very satisfied" in str(digest[0].blocks) and "Quick triage" in str(digest[0].blocks)

    # Reopened and closed again from the card: asked again (a new closing); an escalated case is not asked.
    await slack.click(people.alice, "case_reopen", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_resolve", channel=w.security,
                                                                   message_ts=card.ts))
    await slack.submit_view(people.alice, view.id, {"reason": "Benign", "resolution": "Scanner again"})
    await slack.wait_for(lambda: len(request(people.alice)) == 2)


async def test_a_restricted_incident_closing_closes_its_case_without_naming_itself(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(slack, w.warroom, people.alice, people.general, w.insider, title="Badge misuse",
                           case_type="Insider threat")
    incident = await escalate(w, card, people.alice, w.insider)
    assert incident.visibility == "Restricted"
    view = await new_view(slack, w.carol, lambda: slack.slash_command(w.carol, "/dispatch-update-incident",
                                                                      channel=incident.channel_id))
    await slack.submit_view(w.carol, view.id, {"status": "Closed", "resolution": "Badge revoked",
                                               "incident_severity": "Minor"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.insider].find(card.ts).text)
    await slack.wait_for(lambda: "its incident* was closed" in thread_text(slack, w.insider, card.ts)
                         or "its incident was closed" in thread_text(slack, w.insider, card.ts))
    seen = thread_text(slack, w.insider, card.ts) + str(slack.channels[w.insider].find(card.ts).blocks)
    assert incident.name not in seen and "Badge revoked" not in seen
    case = await case_row(w.warroom)
    assert (case.resolution_reason, case.resolution) == ("Escalated", "Its incident was closed.")
    assert not [m for m in slack.dm_messages(people.alice) if "How was it handled" in m.text], \
        "the incident asks for feedback, not its case"
