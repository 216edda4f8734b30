"""Pages: each one recorded (its dedup key unique) before the pager is called, sent once, retried after a failure.

A page asked for twice (a double click, a redelivered envelope, a second engage of the same service)
finds the row the first one made: one row, one call that succeeds, one pager incident. The dedup key
is also the pager's own dedup key, so a process dying between the pager's answer and our commit is
healed by the retry (the pager folds it into the incident it already has).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.core.notices import Notice
from storage.paging_models import OncallPage
from storage.types import utcnow
from storage.upsert import upsert_insert

PAGE_LEASE = timedelta(minutes=1)  # longer than the adapter's deadline for one page
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 12
SERVICE, PERSON = "service", "person"
_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PageFailed(Notice):
    """Ephemeral to whoever asked for the page (or in the channel for automatic ones): the pager is down."""

    incident_name: str
    target: str  # "the db on-call" / "the commander"
    error: str
    retry_in_seconds: int


@dataclass(frozen=True)
class PageSent(Notice):
    """In the channel: a page went out (after a failure, or an automatic one)."""

    incident_name: str
    target: str
    reference: str


def dedup_key(incident_name: str, kind: str, target: str) -> str:
    """Tied to the incident and what is paged, e.g. `warroom-inc-12-service-db`."""
    parts = [incident_name, kind, target]
    return "warroom-" + "-".join(_UNSAFE.sub("-", p.casefold()).strip("-") for p in parts)


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


async def request_page(session: AsyncSession, incident_id: int | None, name: str, kind: str, target: str, *,
                       reason: str, requested_by: str | None = None, email: str | None = None,
                       case_id: int | None = None, summary: str | None = None,
                       link: str | None = None) -> tuple[OncallPage, bool]:
    """The page row of (incident or case `name`, kind, target), inserted when missing; returns it and whether
    it is new. A case's page (`case_id`) carries its `summary` and `link`. Does not commit."""
    key = dedup_key(name, kind, target)
    stmt = (upsert_insert(session, OncallPage)
            .values(incident_id=incident_id, case_id=case_id, dedup_key=key, target_kind=kind, target=target,
                    email=email, reason=reason, requested_by=requested_by, attempts=0, failure_announced=False,
                    subject=name if case_id is not None else None, summary=summary, link=link, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["dedup_key"]))
    result = cast(CursorResult[Any], await session.execute(stmt))
    row = (await session.execute(select(OncallPage).where(col(OncallPage.dedup_key) == key))).scalar_one()
    return row, (result.rowcount or 0) == 1


async def claim_page(session: AsyncSession, page_id: int) -> OncallPage | None:
    """The unsent page, claimed for one attempt; None when sent already or held by another process. Commits."""
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(OncallPage)
        .where(col(OncallPage.id) == page_id, col(OncallPage.sent_at).is_(None),
               or_(col(OncallPage.claimed_until).is_(None), col(OncallPage.claimed_until) < now))
        .values(claimed_until=now + PAGE_LEASE)
        .execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return None
    row = await session.get(OncallPage, page_id)
    if row is not None:
        await session.refresh(row)
    return row


async def mark_sent(session: AsyncSession, page_id: int, reference: str) -> OncallPage:
    row = await session.get(OncallPage, page_id)
    assert row is not None
    row.sent_at, row.reference, row.claimed_until = utcnow(), reference or row.dedup_key, None
    row.error, row.next_attempt_at = None, None
    return row


async def mark_failed(session: AsyncSession, page_id: int, error: str) -> tuple[OncallPage, timedelta, bool]:
    """Record a failed attempt; returns the row, the delay before the retry, and whether to announce it
    (the first failure only)."""
    row = await session.get(OncallPage, page_id)
    assert row is not None
    row.attempts += 1
    delay = retry_delay(row.attempts)
    row.error, row.next_attempt_at, row.claimed_until = error[:2000], utcnow() + delay, None
    announce = not row.failure_announced
    row.failure_announced = True
    return row, delay, announce


async def due_pages(session: AsyncSession, *, limit: int = 50) -> list[int]:
    """Unsent pages whose retry time has come and that nobody holds."""
    now = utcnow()
    return list((await session.execute(
        select(col(OncallPage.id)).where(
            col(OncallPage.sent_at).is_(None), col(OncallPage.attempts) < MAX_ATTEMPTS,
            or_(col(OncallPage.next_attempt_at).is_(None), col(OncallPage.next_attempt_at) <= now),
            or_(col(OncallPage.claimed_until).is_(None), col(OncallPage.claimed_until) < now),
        ).order_by(col(OncallPage.id)).limit(limit))).scalars().all())
