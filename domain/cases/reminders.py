"""Reminders about cases nobody moves: New longer than the type's `triage_hours`, or Triage/Stable without a
change for the type's `stale_days`.

Each reminder belongs to an interval slot (the n-th `triage_hours` since the case opened, the n-th
`stale_days` since its last change) and is claimed in the database before it is sent (a timeline entry
with a unique key), so however many processes run the job, one reminder goes out per slot. A reminder
Slack refused releases its claim (the claim's entry is kept under `<key>:try<n>`, recording the attempt): the
next run tries again, up to `MAX_ATTEMPTS` runs; on a refusal that cannot change (`PERMANENT`: the user is
gone or deactivated, a bot) it gives up at once. Giving up keeps the claim, so that slot is never tried again,
and is recorded on the case timeline and logged once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.channel import INTERNAL_SOURCE
from domain.cases.notices import CaseReminder
from domain.cases.service import record_case_event
from domain.core.deps import Deps
from domain.core.ports import PortError
from domain.core.vocabulary import CaseStatus
from storage.case_models import Case, CaseEvent
from storage.types import utcnow

log = logging.getLogger(__name__)
PAGE = 500  # waiting cases read per transaction
MAX_ATTEMPTS = 5  # runs that try one reminder before giving up on it
PERMANENT = frozenset({"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "channel_not_found",
                       "is_archived"})  # refusals a later run cannot change
WAITING = (CaseStatus.NEW, CaseStatus.TRIAGE, CaseStatus.STABLE)


@dataclass(frozen=True)
class Due:
    case_id: int
    key: str  # the claim's dedupe key
    notice: CaseReminder
    assignee: str | None
    card: tuple[str, str] | None


async def remind_cases(deps: Deps, now: datetime | None = None) -> int:
    """Send every reminder due now (each slot once across processes); returns how many were sent."""
    now = now or utcnow()
    sent = 0
    for due in await _claim_due(deps, now):
        try:
            await _send(deps, due)
            sent += 1
        except PortError as exc:
            await _refused(deps, due, exc)
    return sent


async def _refused(deps: Deps, due: Due, exc: PortError) -> None:
    """Slack refused the reminder: release the claim for the next run (the attempt recorded), or give up."""
    async with deps.sessions() as session:
        claim = (await session.execute(select(CaseEvent).where(col(CaseEvent.dedupe_key) == due.key))).scalar_one_or_none()
        if claim is None:  # (removed meanwhile: nothing to release)
            await session.commit()
            return
        before = (await session.execute(select(func.count()).select_from(CaseEvent).where(
            col(CaseEvent.dedupe_key).like(f"{due.key}:try%")))).scalar_one()
        attempt = before + 1
        give_up = exc.code in PERMANENT or attempt >= MAX_ATTEMPTS
        claim.details = {**(claim.details or {}), "error": exc.code, "attempts": attempt, "gave_up": give_up}
        if give_up:  # the claim stays: this slot is never tried again
            claim.description = f"Reminder not delivered: gave up after {attempt} attempt{'s' * (attempt > 1)} ({exc.code})"
        else:
            claim.dedupe_key = f"{due.key}:try{attempt}"
            claim.description = f"Reminder not delivered (attempt {attempt}: {exc.code}); tried again next run"
        await session.commit()
    if give_up:
        log.warning("reminder of case %s: Slack refused it %d time(s), last %s; given up", due.case_id, attempt, exc.code)
    else:
        log.info("reminder of case %s not sent (%s); attempt %d of %d", due.case_id, exc.code, attempt, MAX_ATTEMPTS)


async def _claim_due(deps: Deps, now: datetime) -> list[Due]:
    """Claim every reminder due now, a page of waiting cases at a time (each page one short transaction)."""
    claimed: list[Due] = []
    after = 0
    while True:
        async with deps.sessions() as session:
            cases = (await session.execute(
                select(Case).where(col(Case.status).in_(WAITING), col(Case.id) > after)
                .order_by(col(Case.id)).limit(PAGE))).scalars().all()
            if not cases:
                await session.commit()
                return claimed
            after = cases[-1].id
            changed = dict((await session.execute(
                select(col(CaseEvent.case_id), func.max(col(CaseEvent.started_at)))
                .where(col(CaseEvent.case_id).in_([c.id for c in cases]), col(CaseEvent.source) != INTERNAL_SOURCE)
                .group_by(col(CaseEvent.case_id)))).all())
            for case in cases:
                due = await _claim(session, deps, case, changed.get(case.id), now)
                if due is not None:
                    claimed.append(due)
            await session.commit()  # the claims, before anything is sent


async def _claim(session: AsyncSession, deps: Deps, case: Case, changed_at: datetime | None, now: datetime) -> Due | None:
    """The reminder of `case` due now, claimed (not committed); None when none is due or it was claimed already."""
    ctype = deps.config.cases.type(case.case_type)
    if case.status == CaseStatus.NEW:
        if ctype.triage_hours is None:
            return None
        since, every, anchor = case.created_at, timedelta(hours=ctype.triage_hours), "new"
    else:
        if ctype.stale_days is None:
            return None
        since = max(changed_at or case.created_at, case.triage_at or case.created_at)
        every, anchor = timedelta(days=ctype.stale_days), f"stale:{int(since.timestamp())}"
    slot = int((now - since) / every)
    if slot < 1:
        return None
    key = f"case:{case.id}:remind:{anchor}:{slot}"
    if not await record_case_event(session, case.id, f"Reminder ({case.status} since {since:%Y-%m-%d %H:%M} UTC)",
                                   source=INTERNAL_SOURCE, dedupe_key=key):
        return None
    card = (case.card_channel_id, case.card_ts) if case.card_channel_id and case.card_ts else None
    link = deps.ports.conversation.message_link(*card) if card else None
    notice = CaseReminder(case.id, case.name, case.title, case.status, now - since, link, case.channel_id, case.assignee)
    return Due(case.id, key, notice, case.assignee, card)


async def _send(deps: Deps, due: Due) -> None:
    """DM the assignee; a case nobody is assigned to is reminded in its card's thread."""
    conv = deps.ports.conversation
    if due.assignee:
        await conv.send_direct(due.assignee, due.notice)
    elif due.card:
        await conv.post(due.card[0], due.notice, thread_ts=due.card[1])
