"""The signal worker: alerts become case cards, duplicates bump a count, snoozes hold, nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.harness import running_warroom
from domain.core.deps import Deps
from domain.core.vocabulary import SignalStatus
from domain.signals.process import process_batch
from domain.signals.queue import queue_depth
from domain.signals.worker import SignalWorker, backoff_seconds
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance
from storage.types import utcnow
from tests.e2e.signal_helpers import alert, card_of, cases, instances, pending, signal_config, store


@pytest.fixture
def triage(slack, people) -> str:
    return slack.add_channel("sec-triage", members=[people.alice, people.bob])


@pytest.fixture
async def ports(slack):
    """Ports on the emulator, for workers run by the test itself (no bot process around them)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack_conversation import SlackConversation
    from domain.core.ports import Ports

    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    yield Ports.with_conversation(SlackConversation(client))
    if client.session is not None:
        await client.session.close()



async def test_an_alert_becomes_a_case_card_in_the_triage_thread(slack, people, triage, db_url):
    async with running_warroom(slack, db_url, signal_config(triage)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(), "Unusual login")
        warroom.wake_signals()
        case = (await slack.wait_for(lambda: _posted(sessions)))[0]
        card = card_of(slack, triage, case)
        text = json.dumps(card.blocks)
        assert case.name in text and "Unusual login" in text and "mallory" in text and "203.0.113.7" in text
        assert "wiki.example.com/unusual-login" in text, "the runbook is linked"
        actions = [e["action_id"] for b in card.blocks if b["type"] == "actions" for e in b["elements"]]
        assert {"case_triage", "case_resolve", "case_escalate", "case_create_channel", "case_join", "case_snooze"} <= set(actions)
        assert (case.status, case.priority, case.case_type, case.alert_count) == ("New", "High", "Security triage", 1)
        [instance] = await instances(sessions)
        assert (instance.status, instance.outcome, instance.case_id) == (SignalStatus.PROCESSED, "case", case.id)


async def _posted(sessions):
    rows = await cases(sessions)
    return rows if rows and all(c.card_ts for c in rows) else None


async def test_duplicates_join_the_open_case_and_the_card_count_is_edited_sparingly(slack, people, triage, db_url):
    async with running_warroom(slack, db_url, signal_config(triage)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(), "Unusual login")
        warroom.wake_signals()
        [case] = await slack.wait_for(lambda: _posted(sessions))
        for _ in range(30):
            await store(sessions, alert(user="mallory", ip="198.51.100.9"), "Unusual login")
        warroom.wake_signals()
        await slack.wait_for(lambda: _no_pending(sessions))

        async def shown_31():
            card = card_of(slack, triage, case)
            return card and any(f["text"] == "*Alerts*\n31" for b in card.blocks for f in b.get("fields", []))

        await slack.wait_for(shown_31, timeout=8)
        rows = await cases(sessions)
        assert len(rows) == 1 and rows[0].alert_count == 31
        outcomes = [i.outcome for i in await instances(sessions)]
        assert outcomes.count("deduplicated") == 30
        edits = [c for c in slack.calls if c.method == "chat.update" and c.params.get("ts") == case.card_ts]
        assert 1 <= len(edits) <= 5, f"30 alerts must not cause 30 card edits ({len(edits)})"


async def _no_pending(sessions):
    return await pending(sessions) == 0


async def test_a_burst_of_new_cases_has_every_card_posted_without_waiting_for_the_next_poll(
        slack, people, triage, db_url, monkeypatch):
    """More new cases than one round of the card task posts (50): the rounds follow each other at once
    instead of one per poll, so a burst's last card is not a poll interval per 50 cards late."""
    monkeypatch.setattr("domain.signals.worker.CARD_SYNC_EVERY", 60.0)  # only a wake or more work starts a round
    config = signal_config(triage)
    scan = config.signals.definition("Port scan")
    assert scan is not None
    scan.dedup_window_seconds = 0  # each alert its own case
    async with running_warroom(slack, db_url, config) as warroom:
        sessions = warroom.deps.sessions
        for n in range(120):
            await store(sessions, alert("scan-1", user=f"user{n}", ip=f"10.1.{n // 100}.{n % 100}"), "Port scan")
        warroom.wake_signals()
        posted = await slack.wait_for(lambda: _posted(sessions), timeout=30)
        assert len(posted) == 120
        cards = [m for m in slack.channels[triage].messages if m.user == slack.bot_user_id and not m.thread_ts]
        assert len(cards) == 120, "one card per case"
        # Posted in batches, their facts read together: each card shows its own case's entities only.
        shown = [set(re.findall(r"10\.1\.\d+\.\d+", json.dumps(m.blocks))) for m in cards]
        assert all(len(ips) == 1 for ips in shown) and len(set().union(*shown)) == 120
        by_case = {c.name: c for c in posted}
        for card in cards:
            case = by_case[card.text.split(":", 1)[0]]
            assert card.ts == case.card_ts, "each case stores the ts of its own card"


async def test_other_definitions_make_their_own_cases_and_a_closed_case_is_not_reused(slack, people, triage, db_url):
    async with running_warroom(slack, db_url, signal_config(triage)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(), "Unusual login")
        await store(sessions, alert("scan-1"), "Port scan")
        warroom.wake_signals()
        first = await slack.wait_for(lambda: _count_posted(sessions, 2))
        login = next(c for c in first if c.signal_definition == "Unusual login")
        async with sessions() as session:
            await session.execute(update(type(login)).where(type(login).id == login.id).values(status="Closed"))
            await session.commit()
        await store(sessions, alert(), "Unusual login")
        warroom.wake_signals()
        rows = await slack.wait_for(lambda: _count_posted(sessions, 3))
        assert sorted(c.signal_definition for c in rows) == ["Port scan", "Unusual login", "Unusual login"]
        assert rows[-1].signal_definition == "Unusual login" and rows[-1].id != login.id


async def _count_posted(sessions, n):
    rows = await _posted(sessions)
    return rows if rows and len(rows) == n else None


async def test_snoozed_and_context_signals_store_entities_but_make_no_case(slack, people, triage, db_url):
    config = signal_config(triage, filters=[
        {"name": "scanner", "action": "snooze", "entities": [{"type": "ip", "value": "192.0.2.1"}]}])
    async with running_warroom(slack, db_url, config) as warroom:
        sessions = warroom.deps.sessions
        async with sessions() as session:  # a snooze made in Slack, by entity, for this definition
            session.add(SignalFilter(name="mallory travels", definition="Unusual login", created_by=people.alice,
                                     entities=[{"type": "user", "value": "mallory"}], expires_at=utcnow() + timedelta(hours=1)))
            session.add(SignalFilter(name="expired", definition="Unusual login", created_by=people.alice,
                                     entities=[{"type": "user", "value": "trent"}], expires_at=utcnow() - timedelta(hours=1)))
            await session.commit()
        await store(sessions, alert(ip="192.0.2.1", user="eve"), "Unusual login")
        await store(sessions, alert(user="mallory"), "Unusual login")
        await store(sessions, alert("vpn-1", user="bob"), "VPN connect")
        await store(sessions, alert(user="trent"), "Unusual login")
        warroom.wake_signals()
        await slack.wait_for(lambda: _no_pending(sessions))
        outcomes = {i.raw["detail"]["user"]: (i.outcome, i.filter_name) for i in await instances(sessions)}
        assert outcomes == {"eve": ("snoozed", "scanner"), "mallory": ("snoozed", "mallory travels"),
                            "bob": ("stored", None), "trent": ("case", None)}
        async with sessions() as session:
            stored = set((await session.execute(select(SignalEntity.entity_type, SignalEntity.value))).all())
        assert {("ip", "192.0.2.1"), ("user", "mallory"), ("user", "bob")} <= stored
        assert len(await cases(sessions)) == 1


async def test_a_dedup_filter_joins_alerts_of_any_definition_sharing_an_entity(slack, people, triage, db_url):
    config = signal_config(triage, filters=[
        {"name": "same ip", "action": "deduplicate", "entity_types": ["ip"], "window_seconds": 600}])
    async with running_warroom(slack, db_url, config) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(ip="198.51.100.77"), "Unusual login")
        warroom.wake_signals()
        await slack.wait_for(lambda: _posted(sessions))
        await store(sessions, alert("scan-1", ip="198.51.100.78"), "Port scan")
        await store(sessions, alert("scan-1", ip="198.51.100.77"), "Port scan")  # the filter wins over same-definition
        warroom.wake_signals()
        await slack.wait_for(lambda: _no_pending(sessions))
        rows = await cases(sessions)
        assert [(c.signal_definition, c.alert_count) for c in rows] == [("Unusual login", 2), ("Port scan", 1)]
        filters = [i.filter_name for i in await instances(sessions)]
        assert "same ip" in filters


async def test_restart_mid_queue_loses_and_doubles_nothing(slack, people, triage, db_url):
    config = signal_config(triage, worker_batch=10)
    async with running_warroom(slack, db_url, config) as warroom:
        sessions = warroom.deps.sessions
        warroom.signal_worker.processor = _slow(process_batch)
        for n in range(60):
            await store(sessions, alert(user=f"user{n % 3}"), "Unusual login" if n % 2 else "Port scan")
        warroom.wake_signals()
        await slack.wait_for(lambda: warroom.signal_worker.stats.processed >= 5, timeout=20)
        await warroom.signal_worker.stop()  # what stopping the process does first
    left = await pending(sessions)
    assert 0 < left < 60, "stopped mid-queue"
    async with sessions() as session:
        held = (await session.execute(select(func.count()).select_from(SignalInstance)
                                      .where(SignalInstance.claimed_by.is_not(None)))).scalar_one()
    assert held == 0, "a clean stop hands its claims back"
    async with running_warroom(slack, db_url, config) as warroom:
        await slack.wait_for(lambda: _no_pending(warroom.deps.sessions), timeout=30)
        rows = await instances(warroom.deps.sessions)
        all_cases = await cases(warroom.deps.sessions)
    assert len(rows) == 60 and all(i.status == SignalStatus.PROCESSED for i in rows)
    assert sorted(c.signal_definition for c in all_cases) == ["Port scan", "Unusual login"]
    assert sum(c.alert_count for c in all_cases) == 60, "every alert counted exactly once"


def _slow(processor):
    async def slow(session, batch, config, now):
        await asyncio.sleep(0.02 * len(batch))
        return await processor(session, batch, config, now)
    return slow


async def test_two_workers_share_the_queue_without_processing_anything_twice(session_factory, people, slack, triage, ports):
    config = signal_config(triage, worker_batch=7)
    for n in range(120):
        await store(session_factory, alert(user=f"u{n % 5}", ip=f"10.0.0.{n % 7}"), ("Unusual login", "Port scan")[n % 2])
    workers = [SignalWorker(Deps(session_factory, config, ports), worker_id=f"w{i}") for i in range(2)]

    async def drain(worker):
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    rows = await instances(session_factory)
    assert all(i.status == SignalStatus.PROCESSED for i in rows) and len(rows) == 120
    assert sum(w.stats.processed for w in workers) == 120, "each instance processed by exactly one worker"
    if session_factory.kw["bind"].dialect.name == "postgresql":  # SQLite has one writer: one may do it all
        assert all(w.stats.processed > 0 for w in workers), "both workers took part"
    all_cases = await cases(session_factory)
    assert len(all_cases) == 2 and sum(c.alert_count for c in all_cases) == 120


async def test_a_failing_instance_is_retried_with_backoff_then_parked_without_blocking_others(session_factory, slack, triage, ports):
    config = signal_config(triage, max_attempts=3)
    poison = await store(session_factory, alert(user="poison"), "Unusual login")
    good = await store(session_factory, alert("scan-1"), "Port scan")

    async def processor(session, batch, cfg, now):
        if any(instance.id == poison for instance in batch):
            raise ValueError("cannot digest this alert")
        return await process_batch(session, batch, cfg, now)

    worker = SignalWorker(Deps(session_factory, config, ports), processor=processor)
    await worker.run_once()
    async with session_factory() as session:
        depth = await queue_depth(session)
    assert depth["pending"] == 1 and depth["parked"] == 0 and depth["oldest_pending_seconds"] >= 0
    for attempt in (1, 2):
        async with session_factory() as session:
            row = await session.get(SignalInstance, poison)
            assert (row.status, row.attempts) == ("pending", attempt)
            assert row.next_attempt_at > utcnow() + timedelta(seconds=backoff_seconds(attempt) - 1), "backs off"
            assert "cannot digest" in row.last_error
            row.next_attempt_at = utcnow()  # time passes
            await session.commit()
        await worker.run_once()
    async with session_factory() as session:
        parked, done = await session.get(SignalInstance, poison), await session.get(SignalInstance, good)
    assert (parked.status, parked.attempts) == (SignalStatus.PARKED, 3)
    assert done.status == SignalStatus.PROCESSED, "the poison alert did not block the queue"
    assert await worker.run_once() == 0, "parked instances are not claimed again"
    async with session_factory() as session:
        assert await queue_depth(session) == {"pending": 0, "parked": 1, "oldest_pending_seconds": None}


async def test_operators_list_and_requeue_parked_signals_from_the_command_line(db_url, session_factory, capsys):
    import argparse

    from bot.cli import signals_command

    stuck = await store(session_factory, alert(), "Unusual login")
    other = await store(session_factory, alert("scan-1"), "Port scan")
    async with session_factory() as session:
        await session.execute(update(SignalInstance).values(status=SignalStatus.PARKED, attempts=5, last_error="ValueError: boom"))
        await session.commit()
    await signals_command(db_url, argparse.Namespace(signals_command="parked", limit=10))
    out = capsys.readouterr().out
    assert stuck in out and other in out and "ValueError: boom" in out and "2 parked" in out
    assert await signals_command(db_url, argparse.Namespace(signals_command="retry", ids=[], all=False)) == 2
    await signals_command(db_url, argparse.Namespace(signals_command="retry", ids=[stuck], all=False))
    await signals_command(db_url, argparse.Namespace(signals_command="status"))
    assert "1 signal(s) queued again" in capsys.readouterr().out
    async with session_factory() as session:
        row = await session.get(SignalInstance, stuck)
        assert (row.status, row.attempts) == ("pending", 0)
        assert (await session.get(SignalInstance, other)).status == SignalStatus.PARKED


async def test_an_alert_posted_over_http_reaches_the_triage_channel_as_a_card(slack, people, triage, db_url):
    import aiohttp

    from tests.e2e.signal_helpers import TOKEN

    async with running_warroom(slack, db_url, signal_config(triage)) as warroom:
        body = {"project": {"name": "default"}, "raw": alert(user="eve", ip="192.0.2.99")}
        url = f"http://127.0.0.1:{warroom.http_port}/api/v1/default/signals/instances"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
                assert resp.status == 202, await resp.text()
                assert (await resp.json())["id"] == body["raw"]["id"]
        [case] = await slack.wait_for(lambda: _posted(warroom.deps.sessions))
        text = json.dumps(card_of(slack, triage, case).blocks)
        assert "eve" in text and "192.0.2.99" in text and case.signal_definition == "Unusual login"


async def test_a_snooze_made_from_the_card_holds_back_matching_alerts_only(slack, people, triage, db_url):
    async with running_warroom(slack, db_url, signal_config(triage)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(user="mallory", ip="203.0.113.7"), "Unusual login")
        warroom.wake_signals()
        [case] = await slack.wait_for(lambda: _posted(sessions))
        before = set(slack.views)
        await slack.click(people.bob, "case_snooze", channel=triage, message_ts=case.card_ts)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.bob) if v.id not in before]))[-1]
        await slack.submit_view(people.bob, view.id, {"reason": "Pen test this week", "expiry": "1d"})
        await slack.wait_for(lambda: slack.channels[triage].replies(case.card_ts))

        await store(sessions, alert(user="mallory", ip="203.0.113.7"), "Unusual login")  # the snoozed pair
        await store(sessions, alert(user="mallory", ip="198.51.100.1"), "Unusual login")  # another address
        warroom.wake_signals()
        await slack.wait_for(lambda: _no_pending(sessions))
        later = [(i.raw["detail"]["message"], i.outcome) for i in (await instances(sessions))[1:]]
        assert later == [("login from 203.0.113.7", "snoozed"), ("login from 198.51.100.1", "deduplicated")]
        [case] = await cases(sessions)
        assert case.alert_count == 2, "the snoozed alert is not counted on the case"


async def test_two_workers_never_open_two_cases_for_alerts_sharing_a_deduplicated_entity(session_factory, slack, triage, ports):
    config = signal_config(triage, worker_batch=20, filters=[
        {"name": "same ip", "action": "deduplicate", "entity_types": ["ip"], "window_seconds": 600}])
    for n in range(40):  # one attacker address in two definitions: each worker's batch holds one definition
        await store(session_factory, alert(("login-1", "scan-1")[n // 20], user=f"u{n}", ip="198.51.100.66"),
                    ("Unusual login", "Port scan")[n // 20])
    workers = [SignalWorker(Deps(session_factory, config, ports), worker_id=f"w{i}") for i in range(2)]

    async def drain(worker):
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    all_cases = await cases(session_factory)
    assert [c.alert_count for c in all_cases] == [40], "one case for the one address, every alert counted once"


async def test_a_worker_dying_mid_batch_leaves_its_alerts_to_the_next_at_once(session_factory, slack, triage, ports):
    """No lease to wait out: the claim lives in the batch's transaction, which dies with the worker."""
    config = signal_config(triage, worker_batch=10)
    for n in range(10):
        await store(session_factory, alert(user=f"u{n}"), "Unusual login")
    deciding = asyncio.Event()

    async def stuck(session, batch, cfg, now):
        deciding.set()
        await asyncio.Event().wait()  # never returns: the process dies here
        return {}

    doomed = SignalWorker(Deps(session_factory, config, ports), processor=stuck, worker_id="doomed")
    dying = asyncio.create_task(doomed.run_once())
    await asyncio.wait_for(deciding.wait(), 10)
    dying.cancel()  # what SIGKILL does to the transaction: it never commits
    with pytest.raises(asyncio.CancelledError):
        await dying
    survivor = SignalWorker(Deps(session_factory, config, ports), worker_id="survivor")
    assert await survivor.run_once() == 10, "taken over at once, not after a lease"
    rows = await instances(session_factory)
    assert all(i.status == SignalStatus.PROCESSED and i.claimed_by is None for i in rows)
    assert sum(c.alert_count for c in await cases(session_factory)) == 10
