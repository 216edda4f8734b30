"""Feedback on how a case was handled: asked of everyone who worked it when it is closed (one answer each),
digested daily for the assignee. A case closed with its incident is not asked about: the incident is."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.channel import INTERNAL_SOURCE
from domain.cases.service import case_participants, record_case_event
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.vocabulary import CaseStatus
from domain.feedback import FeedbackDigest
from storage.case_models import Case, CaseFeedback
from storage.rows import add_once
from storage.types import utcnow


@dataclass(frozen=True)
class CaseFeedbackRequest(Notice):
    case_id: int
    case_name: str
    title: str


async def request_case_feedback(deps: Deps, case_id: int) -> int:
    """DM everyone who worked the (now Closed, never escalated) case a "Give feedback" button, once per closing
    (claimed on the timeline first); returns how many were asked."""
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.status != CaseStatus.CLOSED or case.incident_id is not None or case.closed_at is None:
            await session.commit()
            return 0
        first = await record_case_event(session, case.id, "Feedback requested", source=INTERNAL_SOURCE,
                                        dedupe_key=f"case:{case.id}:feedback:{case.closed_at.isoformat()}")
        users = await case_participants(session, case.id)
        notice = CaseFeedbackRequest(case.id, case.name, case.title)
        await session.commit()
    if not first:
        return 0
    await asyncio.gather(*(deps.ports.conversation.send_direct(u, notice) for u in users), return_exceptions=True)
    return len(users)


async def may_give_feedback(session: AsyncSession, case_id: int, user_id: str) -> Case | None:
    """The case, when `user_id` worked it and it is Closed; else None (the same answer for a case that does not
    exist)."""
    case = await session.get(Case, case_id)
    if case is None or case.status != CaseStatus.CLOSED or user_id not in await case_participants(session, case_id):
        return None
    return case


async def save_case_feedback(session: AsyncSession, case_id: int, user_id: str, rating: str, comments: str | None, *,
                             anonymous: bool) -> bool:
    """Store once per person and case; False if they already gave it. Commits."""
    return await add_once(session, CaseFeedback(case_id=case_id, user_id=user_id, rating=rating,
                                                comments=comments, anonymous=anonymous))


async def case_digests(session: AsyncSession, now: datetime | None = None) -> dict[str, FeedbackDigest]:
    """Assignee's (else reporter's) Slack id → feedback their cases received in the last 24 h."""
    since = (now or utcnow()) - timedelta(days=1)
    rows = (await session.execute(
        select(CaseFeedback, Case).join(Case, col(Case.id) == col(CaseFeedback.case_id))
        .where(col(CaseFeedback.created_at) >= since).order_by(col(CaseFeedback.id)))).all()
    out: dict[str, list[tuple[str, str, str | None, str | None]]] = {}
    for fb, case in rows:
        owner = case.assignee or case.reporter
        if owner:
            out.setdefault(owner, []).append((case.name, fb.rating, fb.comments, None if fb.anonymous else fb.user_id))
    return {owner: FeedbackDigest(entries) for owner, entries in out.items()}


async def send_case_digests(deps: Deps) -> int:
    """DM each assignee yesterday's feedback on their cases; returns how many were sent."""
    async with deps.sessions() as session:
        by_owner = await case_digests(session)
        await session.commit()
    for owner, digest in by_owner.items():
        await deps.ports.conversation.send_direct(owner, digest)
    return len(by_owner)
