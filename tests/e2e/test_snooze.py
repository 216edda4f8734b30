"""Snoozing a signal case's alerts from its card, with a live preview, and listing a channel's signals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from bot.harness import running_warroom
from domain.cases.cards import publish_case
from domain.cases.service import create_case
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SignalStatus
from domain.signals.snooze import create_snooze
from storage.case_models import Case, CaseEvent
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for

TRAVEL = "Impossible travel"


def config_for(secops: str, reliability: str) -> WarroomConfig:
    return WarroomConfig.model_validate({
        "cases": {"types": [{"name": "Security triage", "default": True, "conversation_target": secops},
                            {"name": "Reliability triage", "conversation_target": reliability}]},
        "signals": {
            "entity_types": [{"name": n, "jsonpath": f"$.{n}"} for n in ("ip", "user", "host")],
            "definitions": [
                {"name": TRAVEL, "external_id": "okta-travel", "owner": "secops", "entity_types": ["ip", "user"],
                 "runbook": "https://runbooks.example.com/travel"},
                {"name": "Login context", "create_case": False, "conversation_target": secops},
                {"name": "Old rule", "enabled": False},
                {"name": "Disk full", "case_type": "Reliability triage", "entity_types": ["host"]},
            ],
        },
    })


async def add_instance(session, definition: str, entities: list[tuple[str, str]], *, case_id: int | None = None,
                       age: timedelta = timedelta(hours=1)) -> None:
    at = utcnow() - age
    instance = SignalInstance(id=str(uuid.uuid4()), organization="default", definition=definition, source="test",
                              raw={}, received_at=at, status=SignalStatus.PROCESSED, outcome="case" if case_id else "stored",
                              case_id=case_id)
    session.add(instance)
    await session.flush()
    for entity_type, value in entities:
        session.add(SignalEntity(instance_id=instance.id, entity_type=entity_type, value=value, definition=definition,
                                 created_at=at))


async def travel_case(warroom) -> Case:
    """A posted case of two alerts, plus other alerts of the same definition (and others the preview ignores)."""
    deps = warroom.deps
    async with deps.sessions() as session:
        case, _ = await create_case(session, deps.config, title="Bob logged in from two continents",
                                    signal_definition=TRAVEL)
        case.alert_count = 2
        both = [("ip", "10.0.0.1"), ("user", "bob")]
        await add_instance(session, TRAVEL, both, case_id=case.id)
        await add_instance(session, TRAVEL, both + [("host", "web-1")], case_id=case.id)
        await add_instance(session, TRAVEL, both)
        await add_instance(session, TRAVEL, [("ip", "10.0.0.1"), ("user", "carol")])
        await add_instance(session, TRAVEL, [("user", "bob")])
        await add_instance(session, TRAVEL, both, age=timedelta(days=8))  # too old for the preview
        await add_instance(session, "Disk full", both)  # another definition
        await session.commit()
        case_id = case.id
    return await posted(warroom, case_id)


async def posted(warroom, case_id: int) -> Case:
    """The case once its card is posted (by this call or by the worker's card task, whichever claims it)."""
    deps = warroom.deps
    await publish_case(deps, case_id)

    async def reloaded():
        async with deps.sessions() as session:
            case = await session.get(Case, case_id)
        return case if case.card_ts else None

    for _ in range(500):
        case = await reloaded()
        if case is not None:
            return case
        await asyncio.sleep(0.01)
    raise AssertionError("the case card was never posted")


def preview_text(slack, view_id: str) -> str:
    block = next(b for b in slack.views[view_id].view["blocks"] if b.get("block_id") == "preview")
    return block["elements"][0]["text"]


async def open_snooze(slack, user, case: Case):
    before = set(slack.views)
    await slack.click(user, "case_snooze", channel=case.card_channel_id, message_ts=case.card_ts)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_snooze_from_the_card_with_a_preview_that_follows_the_checked_entities(slack, people, db_url):
    secops = slack.add_channel("secops", members=[people.alice, people.bob])
    reliability = slack.add_channel("reliability", members=[people.alice])
    async with running_warroom(slack, db_url, config_for(secops, reliability)) as warroom:
        case = await travel_case(warroom)
        card = slack.channels[secops].find(case.card_ts)
        assert any(e.get("action_id") == "case_snooze" for b in card.blocks if b["type"] == "actions" for e in b["elements"])

        view = await open_snooze(slack, people.alice, case)
        boxes = next(b for b in view.view["blocks"] if b.get("block_id") == "entities")["element"]
        assert [o["text"]["text"] for o in boxes["options"]] == ["ip: 10.0.0.1", "user: bob", "host: web-1"]
        # All checked: only the alert carrying the host too, of the 5 recent Impossible travel alerts.
        assert preview_text(slack, view.id) == f"Would have matched 1 of the last 5 alerts of {TRAVEL} in the past 7 days"

        await slack.click(people.alice, "snooze_entities", ["0"], view_id=view.id)
        await slack.wait_for(lambda: preview_text(slack, view.id).startswith("Would have matched 4 of the last 5 "))
        await slack.click(people.alice, "snooze_entities", ["0", "1"], view_id=view.id)
        await slack.wait_for(lambda: preview_text(slack, view.id).startswith("Would have matched 3 of the last 5 "))

        bad = await slack.submit_view(people.alice, view.id, {"name": "   "})
        assert bad.sent and set(bad.ack_payload["errors"]) == {"name"}
        refused = await slack.submit_view(people.alice, view.id, {"entities": []})
        assert not refused.sent and set(refused.ack_payload["errors"]) == {"entities"}, "a required input"
        async with warroom.deps.sessions() as session:
            assert (await session.execute(select(SignalFilter))).scalars().all() == []

        started = utcnow()
        await slack.submit_view(people.alice, view.id, {"reason": "Bob is travelling", "expiry": "1w"})

        async def stored():
            async with warroom.deps.sessions() as session:
                return (await session.execute(select(SignalFilter))).scalars().all()

        (snooze,) = await slack.wait_for(stored)
        assert snooze.name == f"Snooze {TRAVEL}" and snooze.definition == TRAVEL and snooze.action == "snooze"
        assert snooze.entities == [{"type": "ip", "value": "10.0.0.1"}, {"type": "user", "value": "bob"}]
        assert snooze.reason == "Bob is travelling" and snooze.created_by == people.alice and snooze.case_id == case.id
        assert started + timedelta(weeks=1) <= snooze.expires_at <= utcnow() + timedelta(weeks=1)

        (reply,) = await slack.wait_for(lambda: slack.channels[secops].replies(case.card_ts))
        assert f"<@{people.alice}> snoozed *Snooze {TRAVEL}* for 1 week" in reply.text
        assert "ip: `10.0.0.1`, user: `bob`" in reply.text and "Bob is travelling" in reply.text
        confirm = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, secops)
                                                if e["text"].startswith("Snoozed:")])
        assert "(from CASE-1)" in confirm[-1]["text"]
        async with warroom.deps.sessions() as session:
            timeline = (await session.execute(select(CaseEvent.description).where(CaseEvent.case_id == case.id)
                                              .order_by(CaseEvent.id))).scalars().all()
        assert any(t.startswith(f"Snoozed by <@{people.alice}> until ") and "ip: 10.0.0.1, user: bob" in t
                   for t in timeline), timeline

        # Bob ends it early from the channel's signal listing: the card's thread and timeline say so.
        await slack.slash_command(people.bob, "/dispatch-list-signals", channel=secops)
        (listing,) = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, secops))
        await slack.click(people.bob, "snooze_end", channel=secops, message_ts=listing["ts"])
        await slack.wait_for(lambda: any(f"<@{people.bob}> ended the snooze Snooze {TRAVEL}" in r.text
                                         for r in slack.channels[secops].replies(case.card_ts)))
        async with warroom.deps.sessions() as session:
            timeline = (await session.execute(select(CaseEvent.description).where(CaseEvent.case_id == case.id))).scalars().all()
        assert f"Snooze Snooze {TRAVEL} ended by <@{people.bob}>" in timeline


async def test_only_signal_cases_with_entities_open_the_snooze_modal(slack, people, db_url):
    secops = slack.add_channel("secops", members=[people.alice])
    async with running_warroom(slack, db_url, config_for(secops, people.general)) as warroom:
        deps = warroom.deps
        async with deps.sessions() as session:
            case, _ = await create_case(session, deps.config, title="Nothing extracted", signal_definition=TRAVEL)
            await add_instance(session, TRAVEL, [], case_id=case.id)
            await session.commit()
        case = await posted(warroom, case.id)
        await slack.click(people.alice, "case_snooze", channel=secops, message_ts=case.card_ts)
        said = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, secops))
        assert said[-1]["text"] == "CASE-1 has no entities to snooze on."
        assert slack.open_views(people.alice) == []


async def test_list_signals_in_a_targeted_channel_and_elsewhere(slack, people, db_url):
    secops = slack.add_channel("secops", members=[people.alice])
    reliability = slack.add_channel("reliability", members=[people.alice])
    async with running_warroom(slack, db_url, config_for(secops, reliability)) as warroom:
        async with warroom.deps.sessions() as session:
            for name, until in (("Bob trip", utcnow() + timedelta(days=1)), ("Expired", utcnow() - timedelta(hours=1))):
                await create_snooze(session, definition=TRAVEL, name=name, entities=[("user", "bob")],
                                    expires_at=until, created_by=people.alice)
            await session.commit()

        await slack.slash_command(people.alice, "/dispatch-list-signals", channel=secops)
        (listing,) = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, secops))
        assert listing["ts"]
        assert listing["text"] == f"Signals whose cases go to <#{secops}> (2)"
        sections = [b["text"]["text"] for b in listing["blocks"] if b["type"] == "section"][1:]
        travel, context = sections
        assert travel.startswith(f"*{TRAVEL}*") and "`okta-travel`" in travel and "owner secops" in travel
        assert "creates cases" in travel and "Entities: ip, user" in travel
        assert "<https://runbooks.example.com/travel|open>" in travel
        assert "Bob trip (until <!date^" in travel and "Expired" not in travel
        assert context.startswith("*Login context*") and "context only (no cases)" in context
        assert "Snoozed: _no_" in context
        assert all("Old rule" not in s and "Disk full" not in s for s in sections), "disabled / elsewhere"

        end = next(b["accessory"] for b in listing["blocks"] if b.get("accessory", {}).get("action_id") == "snooze_end")
        assert end["text"]["text"] == "End snooze: Bob trip"
        await slack.click(people.alice, "snooze_end", channel=secops, message_ts=listing["ts"])
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, secops)
                                      if e["text"].startswith("Snooze Bob trip ended")])
        async with warroom.deps.sessions() as session:
            ended = (await session.execute(select(SignalFilter).where(SignalFilter.name == "Bob trip"))).scalar_one()
        assert ended.expires_at <= utcnow(), "the snooze no longer holds alerts back"
        await slack.click(people.alice, "snooze_end", channel=secops, message_ts=listing["ts"])  # a stale listing
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, secops)
                                      if e["text"] == "That snooze had already ended."])

        await slack.slash_command(people.alice, "/dispatch-list-signals", channel=reliability)
        (other,) = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, reliability))
        assert other["text"].startswith(f"Signals whose cases go to <#{reliability}> (1)")

        await slack.slash_command(people.alice, "/dispatch-list-signals", channel=people.general)
        (none,) = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, people.general))
        assert none["text"] == (f"No enabled signal definition sends its cases to <#{people.general}> "
                                "(4 definition(s) configured in total).")
