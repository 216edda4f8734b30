"""Case cards posted by the card task: once each, stored as posted, and adopted (not posted again) when a
claim that died had posted one without storing it; alert-count edits within each channel's budget."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import update

from domain.cases.cards import EDIT_ROUND, card_mark, edit_round, sync_cards
from domain.cases.service import CaseFacts, case_of_thread
from domain.config.schema import WarroomConfig
from storage.case_models import Case
from storage.job_models import JobRun
from storage.types import utcnow


async def _signal_case(deps, number: int, channel: str) -> Case:
    async with deps.sessions() as session:
        case = Case(number=number, name=f"CASE-{number}", title=f"Scan {number}", case_type="Security triage",
                    priority="High", severity="Low", signal_definition="Port scan", conversation_target=channel,
                    alert_count=1, created_at=utcnow())
        session.add(case)
        await session.commit()
        return case


async def _stored(deps, case_id: int) -> Case:
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def test_new_cards_are_posted_once_each_with_their_mark_and_stored(deps, conversation):
    triage = conversation.add_channel("sec-triage")
    cases = [await _signal_case(deps, n, triage) for n in range(1, 6)]
    assert await sync_cards(deps) == 5
    posts = conversation.called("post")
    assert sorted(p["mark"].incident for p in posts) == sorted(card_mark(c).incident for c in cases)
    assert {p["mark"].step for p in posts} == {"card"}
    assert not conversation.called("find_marked"), "nobody claimed them before: nothing to look for"
    for case in cases:
        stored = await _stored(deps, case.id)
        [message] = [m for m in conversation.messages(triage) if m["mark"] == card_mark(case)]
        assert (stored.card_channel_id, stored.card_ts, stored.card_alert_count) == (triage, message["ts"], 1)
    assert await sync_cards(deps) == 0 and len(conversation.called("post")) == 5


async def test_a_card_posted_by_a_claim_that_died_is_adopted_not_posted_again(deps, conversation):
    triage = conversation.add_channel("sec-triage")
    case = await _signal_case(deps, 7, triage)
    dead = await conversation.post(triage, CaseFacts(id=case.id, name=case.name, title=case.title, description="",
                                                     status="New", case_type=case.case_type, priority="High",
                                                     severity="Low", assignee=None, reporter=None,
                                                     created_at=case.created_at), mark=card_mark(case))
    async with deps.sessions() as session:  # its claim is older than the publishing lease: the process died
        await session.execute(update(Case).where(Case.id == case.id).values(card_synced_at=utcnow() - timedelta(minutes=2)))
        await session.commit()

    assert await sync_cards(deps) == 1
    assert len(conversation.called("post")) == 1, "only the dead claim's post"
    [edit] = conversation.called("update")
    assert edit["ts"] == dead.ts and edit["notice"].alert_count == 1, "brought up to date"
    assert (await _stored(deps, case.id)).card_ts == dead.ts


async def test_a_reply_that_comes_before_its_card_is_stored_waits_for_it(deps, conversation):
    triage = conversation.add_channel("sec-triage")
    case = await _signal_case(deps, 9, triage)
    async with deps.sessions() as session:  # being posted: claimed, its ts not stored yet
        await session.execute(update(Case).where(Case.id == case.id).values(card_synced_at=utcnow()))
        await session.commit()
    reply = asyncio.create_task(case_of_thread(deps.sessions, triage, "1700000000.000100"))
    await asyncio.sleep(0.3)
    assert not reply.done()
    async with deps.sessions() as session:
        await session.execute(update(Case).where(Case.id == case.id).values(card_channel_id=triage,
                                                                            card_ts="1700000000.000100"))
        await session.commit()
    found = await asyncio.wait_for(reply, 2)
    assert found is not None and found.id == case.id
    started = time.monotonic()
    assert await case_of_thread(deps.sessions, conversation.add_channel("general"), "1700000000.000200") is None
    assert time.monotonic() - started < 1, "no card being posted there: no wait"


async def test_cards_behind_their_alert_count_are_edited_together_and_the_shown_counts_stored(deps, conversation):
    triage = conversation.add_channel("sec-triage")
    cases = [await _signal_case(deps, n, triage) for n in range(11, 15)]
    assert await sync_cards(deps) == 4
    behind = cases[:3]
    async with deps.sessions() as session:  # more alerts joined three of them, after the refresh interval
        await session.execute(update(Case).where(Case.id.in_([c.id for c in behind]))
                              .values(alert_count=Case.alert_count + 4, card_synced_at=utcnow() - timedelta(minutes=1)))
        await session.commit()

    assert await sync_cards(deps) == 3
    edits = conversation.called("update")
    assert sorted(e["notice"].name for e in edits) == sorted(c.name for c in behind)
    assert {e["notice"].alert_count for e in edits} == {5}
    for case in cases:
        stored = await _stored(deps, case.id)
        assert stored.card_alert_count == stored.alert_count == (5 if case in behind else 1)
    assert await sync_cards(deps) == 0, "nothing behind any more"


async def _fall_behind(deps, cases: list[Case], shown_ago: list[int]) -> None:
    """More alerts joined these cases; their cards were last shown `shown_ago` seconds ago (each its own)."""
    async with deps.sessions() as session:
        for case, ago in zip(cases, shown_ago, strict=True):
            await session.execute(update(Case).where(Case.id == case.id).values(
                alert_count=Case.alert_count + 2, card_synced_at=utcnow() - timedelta(seconds=ago)))
        await session.commit()


async def _budget_clock_back(deps, seconds: float) -> None:
    """As if the last round of edits started `seconds` earlier than it did."""
    async with deps.sessions() as session:
        row = await session.get(JobRun, EDIT_ROUND)
        assert row is not None and row.last_started_at and row.locked_until
        row.last_started_at -= timedelta(seconds=seconds)
        row.locked_until -= timedelta(seconds=seconds)
        await session.commit()


def test_the_edit_budget_is_cut_into_rounds_no_shorter_than_a_cards_refresh():
    signals = WarroomConfig().signals
    assert edit_round(signals) == (3.0, 3), "60 a minute, a card at most every 3 s: 3 cards a channel every 3 s"
    assert edit_round(signals.model_copy(update={"card_refresh_seconds": 0.3})) == (1.0, 1)
    assert edit_round(signals.model_copy(update={"card_refresh_seconds": 0, "card_edits_per_minute": 600})) == (0.1, 1)
    assert edit_round(signals.model_copy(update={"card_refresh_seconds": 10, "card_edits_per_minute": 30})) == (10, 5)


async def test_each_channel_gets_its_share_of_edits_the_cards_shown_longest_ago_first(deps, conversation):
    triage, cloud = conversation.add_channel("sec-triage"), conversation.add_channel("cloud-triage")
    busy = [await _signal_case(deps, n, triage) for n in range(21, 26)]
    quiet = [await _signal_case(deps, n, cloud) for n in range(31, 33)]
    assert await sync_cards(deps) == 7
    await _fall_behind(deps, busy, [10, 50, 20, 40, 30])
    await _fall_behind(deps, quiet, [10, 10])

    assert await sync_cards(deps) == 5, "3 cards of the busy channel (its share of a round), both of the quiet one"
    first = {e["notice"].name for e in conversation.called("update")}
    assert first == {busy[1].name, busy[3].name, busy[4].name} | {c.name for c in quiet}
    assert await sync_cards(deps) == 0, "the next round is not due yet, whichever process asks"

    await _budget_clock_back(deps, 3)
    assert await sync_cards(deps) == 2
    assert {e["notice"].name for e in conversation.called("update")} - first == {busy[0].name, busy[2].name}
    for case in busy + quiet:
        stored = await _stored(deps, case.id)
        assert stored.card_alert_count == stored.alert_count == 3
