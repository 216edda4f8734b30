"""Cases in Slack: opened by command or from a message, worked from their card, escalated to incidents."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from storage.case_models import Case, CaseEvent, CaseParticipant
from storage.models import Incident
from tests.e2e.incident_helpers import ephemerals_for, events, roles

CREATE, UPDATE, ESCALATE = "/dispatch-create-case", "/dispatch-update-case", "/dispatch-escalate-case"


class World:
    def __init__(self, slack, people, warroom, security, carol):
        self.slack, self.people, self.warroom, self.security, self.carol = slack, people, warroom, security, carol


@pytest.fixture
async def world(slack, people, db_url):
    """#security receives Security triage cards; carol is on call for secops (the type's service)."""
    carol = slack.add_user("carol", real_name="Carol Oncall")
    security = slack.add_channel("security", members=[people.alice, people.bob], bot_member=True)
    config = WarroomConfig.model_validate({
        "oncall": {"schedules": {"secops": [carol], "sre": [people.bob]}},
        "cases": {"types": [
            {"name": "Security triage", "default": True, "conversation_target": security, "oncall_service": "secops"},
            {"name": "Reliability triage", "oncall_service": "sre"},
            {"name": "Private triage", "incident_type": "Security", "dedicated_channel": True},
        ]},
    })
    async with running_warroom(slack, db_url, config) as warroom:
        yield World(slack, people, warroom, security, carol)


async def new_view(slack, user, start):
    before = set(slack.views)
    await start()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def block(view, prefix):
    return next(b for b in view.view["blocks"] if (b.get("block_id") or "").startswith(prefix))


def cards(slack, channel):
    return [m for m in slack.channels[channel].messages if m.text.startswith("CASE-") and not m.thread_ts]


def buttons(message):
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


async def case_row(w, number=1) -> Case:
    async with w.warroom.deps.sessions() as session:
        return (await session.execute(select(Case).where(Case.number == number))).scalar_one_or_none()


async def case_events(w, case_id) -> list[str]:
    async with w.warroom.deps.sessions() as session:
        return list((await session.execute(select(CaseEvent.description).where(CaseEvent.case_id == case_id)
                                           .order_by(CaseEvent.id))).scalars())


async def participants(w, case_id) -> set[str]:
    async with w.warroom.deps.sessions() as session:
        return set((await session.execute(select(CaseParticipant.user_id)
                                           .where(CaseParticipant.case_id == case_id))).scalars())


async def open_case(w, user=None, channel=None, title="Odd logins from TOR", **values):
    """`user` runs the create command and submits; returns the card once posted."""
    user, channel = user or w.people.alice, channel or w.people.general
    view = await new_view(w.slack, user, lambda: w.slack.slash_command(user, CREATE, channel=channel, text=title))
    await w.slack.submit_view(user, view.id, {"description": "Three accounts, one exit node", **values})
    target = w.security if values.get("case_type", "Security triage") == "Security triage" else channel
    card = (await w.slack.wait_for(lambda: cards(w.slack, target)))[-1]

    async def stored():  # the card's ts is committed just after Slack returns it
        async with w.warroom.deps.sessions() as session:
            return (await session.execute(select(Case).where(Case.card_ts == card.ts))).scalar_one_or_none()

    await w.slack.wait_for(stored)
    return card


def card_text(message) -> str:
    return " ".join(b["text"]["text"] if b.get("text") else " ".join(f["text"] for f in b.get("fields", []))
                    for b in message.blocks if b["type"] == "section")


async def test_create_by_command_posts_card_with_oncall_assignee(world):
    w, slack, people = world, world.slack, world.people
    view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, CREATE, channel=people.general,
                                                                           text="Odd logins from TOR"))
    assert block(view, "title")["element"]["initial_value"] == "Odd logins from TOR"
    assert block(view, "assignee.")["element"]["initial_user"] == w.carol, "the type's on-call person"

    bad = await slack.submit_view(people.alice, view.id, {"title": " "})
    assert set(bad.ack_payload["errors"]) == {"title"}
    submitted = await slack.submit_view(people.alice, view.id, {"description": "Three accounts, one exit node",
                                                                "case_priority": "High"})
    (card,) = await slack.wait_for(lambda: cards(slack, w.security))
    assert card.text.startswith("CASE-1: Odd logins from TOR (New)")
    assert buttons(card) == ["Triage", "Edit", "Resolve", "Escalate", "Create channel", "Join"]
    assert f"<@{w.carol}>" in card_text(card) and "High" in card_text(card)
    note = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                         if "CASE-1" in e["text"]])
    assert "see its card" in str(note[-1]["blocks"]) and card.ts.replace(".", "") in str(note[-1]["blocks"])
    case = await case_row(w)
    assert (case.reporter, case.assignee, case.priority, case.card_channel_id) == (people.alice, w.carol, "High", w.security)

    # The same submission delivered twice makes one case.
    await slack.redeliver(submitted.envelope_id)
    await w.warroom.registry.drain()  # the redelivered submission is fully handled
    async with w.warroom.deps.sessions() as session:
        assert len((await session.execute(select(Case))).scalars().all()) == 1
    assert len(cards(slack, w.security)) == 1


async def test_type_change_moves_the_suggested_assignee_and_card_falls_back_to_origin(world):
    slack, people = world.slack, world.people
    view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, CREATE, channel=people.general))
    await slack.click(people.alice, "create_case_type", "Reliability triage", view_id=view.id)
    await slack.wait_for(lambda: block(slack.views[view.id], "assignee.")["element"].get("initial_user") == people.bob)
    await slack.submit_view(people.alice, view.id, {"title": "5xx spike", "case_type": "Reliability triage"})
    # No conversation target for this type: the card goes where the command was run.
    (card,) = await slack.wait_for(lambda: cards(slack, people.general))
    assert "Reliability triage" in card_text(card) and f"<@{people.bob}>" in card_text(card)


async def test_shortcut_from_message_prefills_and_keeps_the_permalink(world):
    w, slack, people = world, world.slack, world.people
    ts = await slack.post_message(people.bob, people.general, "Weird sudo on build-7\nsee attached log")
    view = await new_view(slack, people.alice, lambda: slack.message_shortcut(
        people.alice, "open_case_from_message", people.general, ts))
    assert block(view, "title")["element"]["initial_value"] == "Weird sudo on build-7"
    assert block(view, "description")["element"]["initial_value"] == "Weird sudo on build-7\nsee attached log"
    await slack.submit_view(people.alice, view.id)
    await slack.wait_for(lambda: cards(slack, w.security))
    case = await case_row(w)
    assert case.description == "Weird sudo on build-7\nsee attached log"
    assert any(e.startswith("Opened from a message: ") and ts.replace(".", "") in e for e in await case_events(w, case.id))


async def test_thread_reply_triages_and_makes_a_participant(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    await asyncio.gather(slack.post_message(people.bob, w.security, "I'm looking at it", thread_ts=card.ts),
                         slack.post_message(people.alice, w.security, "Me too", thread_ts=card.ts))
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    await w.warroom.registry.drain()
    case = await case_row(w)
    assert case.status == "Triage" and {people.alice, people.bob} <= await participants(w, case.id)
    assert len([e for e in await case_events(w, case.id) if e.startswith("Status changed")]) == 1, "triaged once"
    assert "Triage" not in buttons(slack.channels[w.security].find(card.ts))


async def test_triage_edit_resolve_reopen_join_from_the_card(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    channel = w.security
    await slack.click(people.bob, "case_triage", channel=channel, message_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[channel].find(card.ts).text)

    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=channel, message_ts=card.ts))
    assert block(view, "title")["element"]["initial_value"] == "Odd logins from TOR"
    assert block(view, "assignee.")["element"]["initial_user"] == w.carol
    await slack.submit_view(people.bob, view.id, {"title": "TOR logins: 3 accounts", "case_severity": "High",
                                                  block(view, "assignee.")["block_id"]: people.bob})
    await slack.wait_for(lambda: "TOR logins: 3 accounts" in slack.channels[channel].find(card.ts).text)
    shown = card_text(slack.channels[channel].find(card.ts))
    assert "High" in shown and f"<@{people.bob}>" in shown
    case = await case_row(w)
    assert (case.title, case.severity, case.assignee) == ("TOR logins: 3 accounts", "High", people.bob)

    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_resolve", channel=channel, message_ts=card.ts))
    late = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_resolve", channel=channel,
                                                                   message_ts=card.ts))
    reason = block(view, "reason")["element"]
    assert all(o.get("description") for o in reason["options"]), "each reason explains itself"
    bad = await slack.submit_view(people.bob, view.id, {"resolution": "  "})
    assert not bad.sent or set(bad.ack_payload["errors"]) >= {"reason"}
    bad = await slack.submit_view(people.bob, view.id, {"reason": "False Positive", "resolution": " "})
    assert set(bad.ack_payload["errors"]) == {"resolution"}
    await slack.submit_view(people.bob, view.id, {"reason": "False Positive", "resolution": "Pentest traffic"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[channel].find(card.ts).text)
    closed = slack.channels[channel].find(card.ts)
    assert buttons(closed) == ["Edit", "Reopen", "Join"] and "False Positive" in card_text(closed)
    case = await case_row(w)
    assert (case.resolution_reason, case.resolution) == ("False Positive", "Pentest traffic")
    assert "Resolved as False Positive by" in " ".join(await case_events(w, case.id))
    # Someone who opened Resolve at the same time is told why nothing happens (the form stays open).
    refused = await slack.submit_view(people.alice, late.id, {"reason": "Benign", "resolution": "Scanner"})
    assert "already Closed" in str(refused.ack_payload["errors"])
    assert (await case_row(w)).resolution_reason == "False Positive"

    await slack.click(people.alice, "case_reopen", channel=channel, message_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[channel].find(card.ts).text)
    assert (await case_row(w)).resolution_reason is None

    await slack.click(people.alice, "case_join", channel=channel, message_ts=card.ts)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, channel) if "You already work on CASE-1" in e["text"]])
    dave = slack.add_user("dave")
    await slack.join(dave, channel)
    await slack.click(dave, "case_join", channel=channel, message_ts=card.ts)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, dave, channel) if "You joined CASE-1" in e["text"]])
    assert dave in await participants(w, case.id)


async def test_create_channel_twice_makes_one_channel(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w, title="Phishing wave")
    await slack.click(people.bob, "case_join", channel=w.security, message_ts=card.ts)
    await slack.click(people.alice, "case_create_channel", channel=w.security, message_ts=card.ts)
    await slack.click(people.alice, "case_create_channel", channel=w.security, message_ts=card.ts,)
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-phishing-wave"))
    await slack.wait_for(lambda: ephemerals_for(slack, people.alice, w.security)
                         and [e for e in ephemerals_for(slack, people.alice, w.security)
                              if "already has its channel" in e["text"] or "being created" in e["text"]])
    assert len([c for c in slack.channels.values() if c.name.startswith("case-1")]) == 1
    await slack.wait_for(lambda: {people.alice, people.bob, w.carol} <= ch.members)
    assert not ch.is_private
    await slack.wait_for(lambda: ch.pins)
    assert any("works *CASE-1*" in str(m.blocks) and card.ts.replace(".", "") in str(m.blocks) for m in ch.messages)
    await slack.wait_for(lambda: any(f"<#{ch.id}>" in str(m.blocks) for m in slack.channels[w.security].replies(card.ts))), \
        "the thread links the channel"
    case = await case_row(w)
    assert (case.channel_id, case.channel_name) == (ch.id, "case-1-phishing-wave")
    await slack.wait_for(lambda: "Create channel" not in buttons(slack.channels[w.security].find(card.ts)))

    # Joining later invites to the channel.
    dave = slack.add_user("dave")
    await slack.join(dave, w.security)
    await slack.click(dave, "case_join", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: dave in ch.members)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, dave, w.security) if f"<#{ch.id}>" in e["text"]])

    # The copy pinned in the channel works like the card and stays current with it.
    copy = next(m for m in ch.messages if m.ts in ch.pins)
    await slack.click(people.bob, "case_triage", channel=ch.id, message_ts=copy.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    await slack.wait_for(lambda: "(Triage)" in ch.find(copy.ts).text)

    # In the case's channel, the update command finds the case; elsewhere it explains.
    view = await new_view(slack, people.bob, lambda: slack.slash_command(people.bob, UPDATE, channel=ch.id))
    assert view.view["callback_id"] == "case_edit"
    await slack.slash_command(people.bob, UPDATE, channel=people.general)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, people.general)
                                  if "works in a case's own channel" in e["text"]])


async def test_own_channel_checkbox_and_dedicated_type(world):
    w, slack, people = world, world.slack, world.people
    await open_case(w, title="Leaked token", own_channel=["own_channel"])
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-leaked-token"))
    await slack.wait_for(lambda: {people.alice, w.carol} <= ch.members)
    await open_case(w, title="HR data", case_type="Private triage")
    private = await slack.wait_for(lambda: slack.channel_by_name("case-2-hr-data"))
    assert private.is_private, "its incident type is Restricted"


async def test_escalate_creates_ready_incident_commanded_by_the_assignee(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    await slack.post_message(people.bob, w.security, "Looks real", thread_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_escalate", channel=w.security,
                                                                   message_ts=card.ts))
    assert block(view, "title")["element"]["initial_value"] == "Odd logins from TOR"
    bad = await slack.submit_view(people.alice, view.id, {"title": " "})
    assert set(bad.ack_payload["errors"]) == {"title"}
    await slack.submit_view(people.alice, view.id, {"incident_priority": "High", "note": "Confirmed account takeover"})

    async def ready():
        async with w.warroom.deps.sessions() as session:
            incident = (await session.execute(select(Incident))).scalar_one_or_none()
        return incident if incident and incident.setup_state == "ready" else None

    incident = await slack.wait_for(ready)
    case = await slack.wait_for(lambda: _escalated(w))
    assert case.incident_id == incident.id
    assert await roles(w.warroom, incident.id, w.carol) == ["commander"], "the assignee commands"
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: {people.alice, people.bob, w.carol} <= channel.members)
    timeline = await events(w.warroom, incident.id)
    assert any(e.startswith("[CASE-1] Case opened by") for e in timeline)
    assert any(e.startswith("[CASE-1] Status changed from New to Triage") for e in timeline)
    assert "Escalated from CASE-1: Odd logins from TOR" in timeline
    await slack.wait_for(lambda: any("Escalated from *CASE-1*" in str(m.blocks) for m in channel.messages))
    thread = slack.channels[w.security].replies(card.ts)
    await slack.wait_for(lambda: any("Escalated to *INC-1*" in str(m.blocks) for m in slack.channels[w.security].replies(card.ts)))
    shown = await slack.wait_for(lambda: [m for m in [slack.channels[w.security].find(card.ts)] if "(Escalated)" in m.text])
    shown = shown[0]
    assert "(Escalated)" in shown.text and "Escalate" not in buttons(shown) and "INC-1" in str(shown.blocks)
    assert thread is not None
    # Closing it later offers "Escalated" as the reason.
    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_resolve", channel=w.security,
                                                                   message_ts=card.ts))
    assert block(view, "reason")["element"]["initial_option"]["value"] == "Escalated"
    assert (await case_row(w)).resolution_reason is None


async def _escalated(w):
    case = await case_row(w)
    return case if case and case.status == "Escalated" and case.incident_id else None


async def test_escalate_command_keeps_and_renames_the_case_channel(world):
    w, slack, people = world, world.slack, world.people
    await open_case(w, title="Leaked token", own_channel=["own_channel"])
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-leaked-token"))
    await slack.wait_for(lambda: ch.pins)
    await slack.slash_command(people.bob, ESCALATE, channel=people.general)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, people.general)
                                  if "works in a case's own channel" in e["text"]])
    view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, ESCALATE, channel=ch.id))
    await slack.submit_view(people.alice, view.id, {"title": "Token leak"})
    case = await slack.wait_for(lambda: _escalated(w))
    await slack.wait_for(lambda: ch.name == "inc-1-token-leak")

    async def renamed():
        async with w.warroom.deps.sessions() as session:
            incident = await session.get(Incident, case.incident_id)
        return incident if incident.channel_name == "inc-1-token-leak" else None

    incident = await slack.wait_for(renamed)
    assert incident.channel_id == ch.id and (await case_row(w)).channel_name == "inc-1-token-leak"
    assert len([c for c in slack.channels.values() if c.name.startswith("inc-")]) == 1, "no second channel"
    await slack.wait_for(lambda: any("Escalated from *CASE-1*" in str(m.blocks) for m in ch.messages))
    # Named first, the command works anywhere; an escalated case says so.
    await slack.slash_command(people.alice, ESCALATE, channel=people.general, text="case-1")
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                  if "already escalated to INC-1" in e["text"]])


async def test_escalation_interrupted_by_slack_resumes_from_the_escalate_button(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    slack.inject("conversations.create", error="fatal_error")
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_escalate", channel=w.security,
                                                                 message_ts=card.ts))
    await slack.submit_view(people.bob, view.id, {"incident_priority": "Medium"})
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, w.security) if "not finished" in e["text"]])
    case = await case_row(w)
    assert case.status == "Escalated" and case.incident_id is not None
    # Pressing Escalate again finishes it: same incident, now with its channel and the links.
    await slack.click(people.bob, "case_escalate", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, w.security) if "Escalated to INC-1" in e["text"]])
    async with w.warroom.deps.sessions() as session:
        incidents = (await session.execute(select(Incident))).scalars().all()
    assert len(incidents) == 1 and incidents[0].setup_state == "ready"
    assert await roles(w.warroom, incidents[0].id, w.carol) == ["commander"]
    await slack.wait_for(lambda: "Escalate" not in buttons(slack.channels[w.security].find(card.ts)))


async def test_two_people_escalating_at_once_get_one_incident_and_no_false_alarm(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    views = [await new_view(slack, who, lambda who=who: slack.click(who, "case_escalate", channel=w.security,
                                                                      message_ts=card.ts))
             for who in (people.alice, people.bob)]
    answers = await asyncio.gather(*(slack.submit_view(who, view.id, {"incident_priority": "High"})
                                     for who, view in zip((people.alice, people.bob), views, strict=True)))
    # The second is told where the incident is: after its form closed, or in the form (checked at submit)
    # when the first escalation had already finished.
    refused = [" ".join(a.ack_payload["errors"].values()) for a in answers if (a.ack_payload or {}).get("errors")]

    def told():
        said = [e["text"] for who in (people.alice, people.bob) for e in ephemerals_for(slack, who, w.security)
                if "INC-1" in e["text"]] + [text for text in refused if "INC-1" in text]
        return said if len(said) == 2 else None

    said = await slack.wait_for(told, timeout=10)
    assert not any("not finished" in text for text in said), said
    assert any(text.startswith("Escalated to INC-1") for text in said)
    async with w.warroom.deps.sessions() as session:
        incidents = (await session.execute(select(Incident))).scalars().all()
    assert len(incidents) == 1


async def test_home_tab_lists_open_cases_assigned_first_until_closed(world):
    from tests.e2e.test_home import home

    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    await slack.open_home(w.carol)
    view = await slack.wait_for(lambda: home(slack, w.carol))
    text = str(view.view["blocks"])
    assert "CASE-1" in text and "assigned to you" in text and f"<#{w.security}>" in text
    assert f"p{card.ts.replace('.', '')}" in text, "links to the case card"
    await slack.open_home(people.alice)  # the reporter works on it without being assigned
    assert "you work on it" in str((await slack.wait_for(lambda: home(slack, people.alice))).view["blocks"])

    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_resolve", channel=w.security,
                                                                   message_ts=card.ts))
    await slack.submit_view(people.alice, view.id, {"reason": "Benign", "resolution": "Known scanner"})
    await slack.wait_for(lambda: _status_is(w, "Closed"))
    await slack.open_home(w.carol)

    def refreshed():
        blocks = str(home(slack, w.carol).view["blocks"])
        return "CASE-1" not in blocks and "No open case" in blocks

    await slack.wait_for(refreshed)


async def _status_is(w, status):
    return (await case_row(w)).status == status


def thread_text(slack, channel, ts) -> str:
    return " ".join(f"{m.text} {m.blocks}" for m in slack.channels[channel].replies(ts))


async def test_restricted_case_card_never_lets_an_outsider_in_before_or_after_escalation(world):
    """The card of a case whose type escalates to a Restricted incident sits in a channel many people read:
    Join, a thread reply or re-assigning it from the card must not bring them into its private channel,
    which becomes the incident's."""
    w, slack, people = world, world.slack, world.people
    dave = slack.add_user("dave")
    await slack.join(dave, people.general)
    card = await open_case(w, title="HR data", case_type="Private triage")  # no target: the card stays in #general
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-hr-data"))
    await slack.wait_for(lambda: ch.pins)
    assert ch.is_private and people.alice in ch.members

    await slack.click(dave, "case_join", channel=people.general, message_ts=card.ts)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, dave, people.general))
    assert "CASE-1 is restricted" in refusal[-1]["text"] and f"<@{w.carol}>" in refusal[-1]["text"], \
        "names who can add them: the assignee"
    await slack.post_message(dave, people.general, "I can help", thread_ts=card.ts)
    view = await new_view(slack, dave, lambda: slack.click(dave, "case_edit", channel=people.general, message_ts=card.ts))
    refused = await slack.submit_view(dave, view.id, {block(view, "assignee.")["block_id"]: dave})
    assert "can reassign it" in str(refused.ack_payload["errors"]), "checked at submit: the form stays open"
    refused_edit = view.id
    await w.warroom.registry.drain()
    case = await case_row(w)
    assert dave not in await participants(w, case.id) and dave not in ch.members and case.assignee == w.carol

    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_escalate", channel=people.general,
                                                                   message_ts=card.ts))
    await slack.submit_view(people.alice, view.id, {"title": "Quartz breach"})
    case = await slack.wait_for(lambda: _escalated(w))
    await slack.wait_for(lambda: ch.name == "inc-1-quartz-breach")
    async with w.warroom.deps.sessions() as session:
        incident = await session.get(Incident, case.incident_id)
    assert incident.visibility == "Restricted" and incident.channel_id == ch.id

    # The card says only that it was escalated: no incident name, no channel, no Join.
    shown = await slack.wait_for(lambda: [m for m in [slack.channels[people.general].find(card.ts)]
                                          if "(Escalated)" in m.text])
    blocks = str(shown[0].blocks)
    assert "Escalated to an incident" in blocks and "INC-1" not in blocks and ch.id not in blocks
    assert "Join" not in buttons(shown[0]) and "Escalate" not in buttons(shown[0])
    await slack.wait_for(lambda: "was escalated to an incident" in thread_text(slack, people.general, card.ts))
    assert "INC-1" not in thread_text(slack, people.general, card.ts)

    # A stale Join (here: another card's button carrying CASE-1's id) and the commands by name give nothing away.
    await open_case(w, title="5xx spike", case_type="Reliability triage")
    other = await slack.wait_for(lambda: next((m for m in cards(slack, people.general) if "5xx spike" in m.text), None))
    await slack.click(dave, "case_join", value=str(case.id), channel=people.general, message_ts=other.ts)
    told = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, dave, people.general)
                                         if "CASE-1 was escalated" in e["text"]])
    assert "INC-1" not in told[-1]["text"] and f"<@{w.carol}>" in told[-1]["text"]
    for command in (UPDATE, ESCALATE):
        before = len(ephemerals_for(slack, dave, people.general))
        await slack.slash_command(dave, command, channel=people.general, text="CASE-1")
        said = await slack.wait_for(lambda before=before: ephemerals_for(slack, dave, people.general)[before:])
        assert "works in a case's own channel" in said[-1]["text"], "the answer to an unknown name"
    await slack.post_message(dave, people.general, "any news?", thread_ts=card.ts)
    await w.warroom.registry.drain()
    assert dave not in ch.members and dave not in await participants(w, case.id)
    assert [v.id for v in slack.open_views(dave)] == [refused_edit], "no form opened by the commands"
    assert "INC-1" not in str([e["text"] for e in ephemerals_for(slack, dave)])

    # The card follows the incident's visibility: named once it is Open, anonymous again once Restricted.
    for visibility, named in (("Open", True), ("Restricted", False)):
        view = await new_view(slack, w.carol, lambda: slack.slash_command(w.carol, "/dispatch-update-incident",
                                                                          channel=ch.id))
        await slack.submit_view(w.carol, view.id, {"visibility": visibility})
        await slack.wait_for(lambda named=named: ("INC-1" in str(slack.channels[people.general].find(card.ts).blocks))
                             == named)


async def test_a_restricted_incident_never_takes_over_a_public_case_channel(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w, title="Leaked token", case_type="Reliability triage", own_channel=["own_channel"])
    public = await slack.wait_for(lambda: slack.channel_by_name("case-1-leaked-token"))
    await slack.wait_for(lambda: public.pins)
    assert not public.is_private
    # Re-typed to one that escalates to a Restricted incident after its public channel was made.
    view = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_edit", channel=people.general,
                                                                   message_ts=card.ts))
    await slack.submit_view(people.alice, view.id, {"case_type": "Private triage"})
    await slack.wait_for(lambda: "Private triage" in card_text(slack.channels[people.general].find(card.ts)))
    view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, ESCALATE, channel=public.id))
    await slack.submit_view(people.alice, view.id, {"title": "Token leak"})
    case = await slack.wait_for(lambda: _escalated(w))

    async def ready():
        async with w.warroom.deps.sessions() as session:
            incident = await session.get(Incident, case.incident_id)
        return incident if incident.setup_state == "ready" else None

    incident = await slack.wait_for(ready)
    assert incident.visibility == "Restricted" and incident.channel_id != public.id
    private = slack.channels[incident.channel_id]
    assert private.is_private and public.name == "case-1-leaked-token", "the case channel is left as it was"
    await slack.wait_for(lambda: people.alice in private.members)
    await slack.wait_for(lambda: any("was escalated to an incident" in str(m.blocks) for m in public.messages))
    assert not any(incident.name in f"{m.text} {m.blocks}" for m in public.messages)
    assert "Worked in" in str(slack.channels[people.general].find(card.ts).blocks), "its own channel is still its own"


async def test_join_refused_once_the_case_channel_is_private(world):
    """A Slack admin may convert a case's public channel to private: Join asks Slack, and then refuses."""
    w, slack, people = world, world.slack, world.people
    card = await open_case(w, title="Phishing wave", own_channel=["own_channel"])
    ch = await slack.wait_for(lambda: slack.channel_by_name("case-1-phishing-wave"))
    await slack.wait_for(lambda: ch.pins)
    ch.is_private = True  # converted by an admin
    dave = slack.add_user("dave")
    await slack.join(dave, w.security)
    await slack.click(dave, "case_join", channel=w.security, message_ts=card.ts)
    refusal = await slack.wait_for(lambda: ephemerals_for(slack, dave, w.security))
    assert "private channel" in refusal[-1]["text"] and f"<@{w.carol}>" in refusal[-1]["text"]
    assert dave not in ch.members and dave not in await participants(w, (await case_row(w)).id)
    await slack.click(people.bob, "case_join", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: ephemerals_for(slack, people.bob, w.security))
    assert "private channel" in ephemerals_for(slack, people.bob, w.security)[-1]["text"], "bob never worked it either"
