"""Post-incident feedback: asked of every participant on close, digested daily for commanders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.core.deps import Deps
from domain.core.notices import Notice
from storage.feedback_models import Feedback
from storage.models import Incident, IndividualContact, Participant
from storage.rows import add_once, must_get
from storage.types import utcnow

RATINGS = ("Very satisfied", "Somewhat satisfied", "Neither satisfied nor dissatisfied", "Somewhat dissatisfied",
           "Very dissatisfied")


@dataclass(frozen=True)
class FeedbackRequest(Notice):
    incident_id: int
    incident_name: str
    title: str


@dataclass(frozen=True)
class FeedbackDigest(Notice):
    """Feedback a commander's incidents received in the last day."""

    entries: list[tuple[str, str, str | None, str | None]]  # incident name, rating, comments, author (None: anonymous)


async def request_feedback(deps: Deps, incident_id: int) -> int:
    """DM every participant a "Give feedback" button; returns how many were asked."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        users = (await session.execute(
            select(col(IndividualContact.slack_user_id)).join(Participant, col(Participant.individual_id) == col(IndividualContact.id))
            .where(col(Participant.incident_id) == incident_id))).scalars().all()
    notice = FeedbackRequest(incident.id, incident.name, incident.title)
    await asyncio.gather(*(deps.ports.conversation.send_direct(u, notice) for u in users), return_exceptions=True)
    return len(users)


async def save_feedback(session: AsyncSession, incident_id: int, user_id: str, rating: str, comments: str | None, *,
                        anonymous: bool) -> bool:
    """Store once per person and incident; False if they already gave it. Commits."""
    return await add_once(session, Feedback(incident_id=incident_id, user_id=user_id, rating=rating,
                                            comments=comments, anonymous=anonymous))


async def digests(session: AsyncSession, now: datetime | None = None) -> dict[str, FeedbackDigest]:
    """Commander's Slack id → feedback their incidents received in the last 24 h."""
    since = (now or utcnow()) - timedelta(days=1)
    rows = (await session.execute(
        select(Feedback, col(Incident.name), col(IndividualContact.slack_user_id))
        .join(Incident, col(Incident.id) == col(Feedback.incident_id))
        .join(IndividualContact, col(IndividualContact.id) == col(Incident.commander_id))
        .where(col(Feedback.created_at) >= since).order_by(col(Feedback.id)))).all()
    out: dict[str, list] = {}
    for fb, name, commander in rows:
        out.setdefault(commander, []).append((name, fb.rating, fb.comments, None if fb.anonymous else fb.user_id))
    return {c: FeedbackDigest(e) for c, e in out.items()}
