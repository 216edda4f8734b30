"""Case cards in Slack: posting a new case's card, refreshing it, and catching up on cards that lag.

A case row is committed before its card is posted; a card that failed to post (or whose
process died) is posted later by `sync_cards`. Signal counts change the card at most every
`signals.card_refresh_seconds`, however many alerts arrive, and a channel's cards within an edit budget.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlmodel import col

from domain.cases.paging import page_assignee_if_needed, pages_assignee
from domain.cases.service import add_case_participant, cases_facts, record_case_event
from domain.config.signals import SignalsConfig
from domain.core.deps import Deps
from domain.core.ports import MessageRef, PortError, StepMark
from domain.response.paging import first_on_call
from storage.case_models import Case, CaseEvent
from storage.job_locks import acquire
from storage.types import utcnow

log = logging.getLogger(__name__)
PUBLISH_LEASE = timedelta(seconds=60)  # a publisher that shows no result by then is presumed dead
SYNC_BATCH = 50
SYNC_CONCURRENCY = 4
EDIT_ROUND = "case-card-edits"  # its job lock paces alert-count edits across processes
UNPOSTED = and_(col(Case.card_ts).is_(None), col(Case.conversation_target).is_not(None))  # cards to post


async def publish_case(deps: Deps, case_id: int) -> Case | None:
    """Assign the type's on-call person when nobody is assigned, then post the case card in its channel.

    Safe to call again and from several processes: a posted card is never posted twice.
    """
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        await session.commit()
    if case is None or case.card_ts is not None or not case.conversation_target:
        return case
    claimed = await _claim_cards(deps, [case_id], UNPOSTED, utcnow() - PUBLISH_LEASE)
    if not claimed:
        return case
    return (await _post_cards(deps, claimed, {case_id} if case.card_synced_at else set())).get(case_id)


async def _claim_cards(deps: Deps, case_ids: list[int], which: ColumnElement[bool], stale_before: datetime) -> list[Case]:
    """Claim, in one statement, the cards of these cases matching `which` that no process touched since
    `stale_before` (`card_synced_at` is the claim), so one process at a time touches a card."""
    async with deps.sessions() as session:
        claimed = list((await session.execute(
            update(Case).where(col(Case.id).in_(case_ids), which,
                               or_(col(Case.card_synced_at).is_(None), col(Case.card_synced_at) < stale_before))
            .values(card_synced_at=utcnow()).returning(Case).execution_options(synchronize_session=False))).scalars())
        await session.commit()
    return claimed


async def _post_cards(deps: Deps, claimed: list[Case], recover: set[int]) -> dict[int, Case | None]:
    """Post the cards of cases claimed for it, by case id (None: deleted meanwhile). Where nobody is assigned,
    the type's on-call person is first; the facts of all are read in one go, the posted cards stored in one
    statement, then assignees paged where their type or priority asks for it. `recover`: cases an earlier claim
    may have posted (their mark is looked for first)."""
    config, conv = deps.config, deps.ports.conversation
    services = {c.id: service for c in claimed
                if c.assignee is None and (service := config.cases.type(c.case_type).oncall_service)}
    firsts = dict(zip(services, await asyncio.gather(*(first_on_call(deps, s) for s in services.values())),
                      strict=True))
    cases: dict[int, Case | None] = {}
    async with deps.sessions() as session:
        for case in claimed:
            if case.id in services:  # read again: the pager's answer took a while
                fresh = await session.get(Case, case.id, populate_existing=True)
                cases[case.id] = fresh
                if fresh is not None and fresh.assignee is None and (first := firsts[case.id]):
                    fresh.assignee = first
                    await add_case_participant(session, fresh.id, first, f"On call for {services[case.id]}")
                    await record_case_event(session, fresh.id, f"Assigned to <@{first}> (on call for {services[case.id]})")
            else:
                cases[case.id] = case
        ready = [c for c in cases.values() if c is not None and c.conversation_target]
        facts = await cases_facts(session, ready, config)
        await session.commit()
    slots = asyncio.Semaphore(SYNC_CONCURRENCY)

    async def post(case: Case) -> tuple[Case, MessageRef] | None:
        target, mark, shown = case.conversation_target or "", card_mark(case), facts[case.id]
        async with slots:
            try:
                # An earlier claim may have posted it and died before storing it: look for its mark first.
                card = await conv.find_marked(target, mark) if case.id in recover else None
                if card is not None:
                    await conv.update(card.channel_id, card.ts, shown)
                else:
                    card = await conv.post(target, shown, mark=mark)
            except PortError as exc:
                # Stays unposted; sync_cards retries once the lease passes. Tell nobody yet: no one is waiting on it.
                log.warning("card of %s not posted in %s: %s", case.name, target, exc)
                return None
        return case, card

    posted = [p for p in await asyncio.gather(*(post(c) for c in ready)) if p is not None]
    if posted:
        # Stored together once posted: a crash before this finds each card again by its mark (see `post`).
        now = utcnow()
        for case, card in posted:
            case.card_channel_id, case.card_ts = card.channel_id, card.ts
            case.card_alert_count, case.card_synced_at = facts[case.id].alert_count, now
        async with deps.sessions() as session:
            await session.execute(update(Case), [
                {"id": case.id, "card_channel_id": case.card_channel_id, "card_ts": case.card_ts,
                 "card_alert_count": case.card_alert_count, "card_synced_at": now} for case, _ in posted])
            await session.commit()
    for case, _ in posted:
        if case.assignee is not None and pages_assignee(config, case):
            await page_assignee_if_needed(deps, case.id)
    return cases


async def show_change(deps: Deps, case_id: int) -> None:
    """Edit the case's card, and the copy pinned in its own channel when it has one, to show it now."""
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        await session.commit()
    if case is not None:
        await _show(deps, [case], strict=True)


async def _show(deps: Deps, cases: list[Case], *, strict: bool) -> int:
    """Edit these cases' cards (and pinned copies) to show them now: their facts read in one go, the alert
    counts shown stored in one statement. A card Slack refuses is logged, or with `strict` raised once the
    others are done. Returns how many cards were edited."""
    conv = deps.ports.conversation
    cards = {c.id: (c.card_channel_id, c.card_ts) for c in cases if c.card_channel_id and c.card_ts}
    async with deps.sessions() as session:
        keys = {channel_card_key(c.id): c.id for c in cases}
        pinned = {keys[key]: details for key, details in (await session.execute(select(
            col(CaseEvent.dedupe_key), col(CaseEvent.details)).where(col(CaseEvent.dedupe_key).in_(keys)))) if details}
        facts = await cases_facts(session, cases, deps.config, {i: conv.message_link(*c) for i, c in cards.items()})
        await session.commit()
    slots, errors = asyncio.Semaphore(SYNC_CONCURRENCY), []

    async def one(case_id: int) -> bool:
        edited = False
        async with slots:
            try:
                if card := cards.get(case_id):
                    await conv.update(*card, facts[case_id])
                    edited = True
                if (copy := pinned.get(case_id)) and copy.get("ts"):
                    await conv.update(copy["channel"], copy["ts"], facts[case_id])
            except PortError as exc:
                if strict:
                    errors.append(exc)
                else:
                    log.warning("card of case %s not refreshed: %s", case_id, exc)
        return edited

    edited = [c.id for c, ok in zip(cases, await asyncio.gather(*(one(c.id) for c in cases)), strict=True) if ok]
    if edited:
        async with deps.sessions() as session:  # only once Slack shows them
            now = utcnow()
            await session.execute(update(Case), [{"id": case_id, "card_alert_count": facts[case_id].alert_count,
                                                  "card_synced_at": now} for case_id in edited])
            await session.commit()
    if errors:
        raise errors[0]
    return len(edited)


async def show_incident_cases(deps: Deps, incident_id: int, changed: frozenset[str]) -> None:
    """An incident watcher: when its visibility changed, refresh the cards of the cases escalated to it
    (they name the incident only while it is Open)."""
    if "Visibility" not in changed:
        return
    async with deps.sessions() as session:
        ids = list((await session.execute(select(col(Case.id)).where(col(Case.incident_id) == incident_id))).scalars())
        await session.commit()
    for case_id in ids:
        try:
            await show_change(deps, case_id)
        except PortError as exc:
            log.warning("card of case %s not refreshed: %s", case_id, exc)


def card_mark(case: Case) -> StepMark:
    """The mark a case card is posted with, so that a retry finds a card posted by a claim that died."""
    return StepMark(case.name, "card")


def channel_card_key(case_id: int) -> str:
    """Dedupe key of the timeline entry remembering the card copy pinned in a case's own channel."""
    return f"case:{case_id}:migrate:channel-card"


async def sync_cards(deps: Deps) -> int:
    """Post cards not posted yet and edit cards whose alert count is behind; returns how many were touched.

    Signal cases are posted here (the worker never waits on Slack); other cases only when their own
    flow failed to post them. Up to SYNC_CONCURRENCY cards are handled at once. Alert-count edits
    follow `edit_round`: a card at most once per `signals.card_refresh_seconds`, a channel at most
    `signals.card_edits_per_minute`, across every process.
    """
    now = utcnow()
    async with deps.sessions() as session:
        lagging = (await session.execute(
            select(col(Case.id), col(Case.card_synced_at)).where(
                UNPOSTED, or_(col(Case.signal_definition).is_not(None), col(Case.created_at) < now - PUBLISH_LEASE),
                or_(col(Case.card_synced_at).is_(None), col(Case.card_synced_at) < now - PUBLISH_LEASE),
            ).order_by(col(Case.id)).limit(SYNC_BATCH))).all()
        await session.commit()
    unposted = [case_id for case_id, _ in lagging]
    retried = {case_id for case_id, synced_at in lagging if synced_at is not None}
    posted = await _post_cards(deps, await _claim_cards(deps, unposted, UNPOSTED, now - PUBLISH_LEASE),
                               retried) if unposted else {}
    return len(posted) + await _edit_behind(deps, now)


def edit_round(signals: SignalsConfig) -> tuple[float, int]:
    """Seconds between two rounds of alert-count edits, and how many cards of each channel a round edits.

    Slack rate-limits `chat.update`, and a busy triage channel may hold thousands of open cases whose
    counts move all the time: without a budget, keeping them current would take every call Slack allows.
    """
    period = max(signals.card_refresh_seconds, 60 / signals.card_edits_per_minute)
    return period, max(1, round(signals.card_edits_per_minute * period / 60))


async def _edit_behind(deps: Deps, now: datetime) -> int:
    """One round of alert-count edits, if one is due: in each channel, the cards behind that were shown
    longest ago, up to the channel's share of the budget. Returns how many cards were edited."""
    period, per_channel = edit_round(deps.config.signals)
    refresh_before = now - timedelta(seconds=deps.config.signals.card_refresh_seconds)
    due = and_(col(Case.card_ts).is_not(None), col(Case.alert_count) != col(Case.card_alert_count),
               or_(col(Case.card_synced_at).is_(None), col(Case.card_synced_at) < refresh_before))
    turn = func.row_number().over(partition_by=col(Case.card_channel_id),
                                  order_by=(col(Case.card_synced_at), col(Case.id))).label("turn")
    ranked = select(col(Case.id), turn).where(due).subquery()
    async with deps.sessions() as session:
        behind = list((await session.execute(select(ranked.c.id).where(ranked.c.turn <= per_channel))).scalars())
        await session.commit()
        # One round per period across processes: the last round's start is the budget's clock.
        if not behind or not await acquire(session, EDIT_ROUND, deps.holder, timedelta(seconds=period),
                                           min_gap=timedelta(seconds=period), now=now):
            return 0
    return await _show(deps, await _claim_cards(deps, behind, col(Case.card_ts).is_not(None), refresh_before),
                       strict=False)
