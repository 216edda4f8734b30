"""Stakeholder email: what an email says (text and HTML), and the rows that make each one sent once.

Each (update, recipient) is one row with a unique key, stored before anything is sent: the same
update published again (a retry, a second process) finds its rows and sends nothing new. A row is
claimed (a lease) while it is being delivered and marked sent after the server accepted it; a
failure is recorded and retried by the resume job. SMTP has no idempotency key: a process dying
after the server accepted a message and before the commit sends it again on resume, with the same
Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.incidents.notices import IncidentFacts
from storage.paging_models import StakeholderEmail
from storage.types import utcnow
from storage.upsert import upsert_insert

EMAIL_LEASE = timedelta(minutes=2)  # longer than the adapter's deadline for one delivery
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(minutes=30)
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def _rows(facts: IncidentFacts, commander: str) -> list[tuple[str, str]]:
    return [("Status", facts.status), ("Priority", facts.priority), ("Severity", facts.severity),
            ("Type", facts.incident_type), ("Commander", commander)]


def compose(prefix: str, facts: IncidentFacts, *, headline: str, commander: str, link: str,
            sections: list[tuple[str, str]]) -> Composed:
    """An email about the incident: `headline` (e.g. "is now Stable"), its key fields, `sections`
    (heading, text) and a link to the incident channel; plain text and the same in HTML."""
    subject = f"{prefix} {facts.name} {headline}: {facts.title}".strip()[:250]
    fields = _rows(facts, commander)
    text_lines = [f"{facts.name} {headline}: {facts.title}", ""]
    text_lines += [f"{label}: {value}" for label, value in fields if value]
    for heading, body in sections:
        text_lines += ["", heading, body]
    text_lines += ["", f"Incident channel: {link}", "", "Sent by warroom to the incident's stakeholders."]
    e = html.escape
    table = "".join(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>" for label, value in fields if value)
    parts = "".join(f"<h3>{e(heading)}</h3><p>{e(body).replace(chr(10), '<br>')}</p>" for heading, body in sections)
    body_html = (f"<html><body><h2>{e(facts.name)} {e(headline)}: {e(facts.title)}</h2><table>{table}</table>{parts}"
                 f"<p><a href=\"{e(link, quote=True)}\">Open the incident channel</a></p>"
                 "<p><small>Sent by warroom to the incident's stakeholders.</small></p></body></html>")
    return Composed(subject, "\n".join(text_lines) + "\n", body_html)


def message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain or 'warroom'}>"


async def queue_emails(session: AsyncSession, incident_id: int, key: str, recipients: list[str], email: Composed, *,
                       sender_domain: str) -> list[int]:
    """Store one row per recipient under `key` (nothing new for rows already there); returns the ids of
    this key's rows not sent yet. Does not commit."""
    for to in recipients:
        await session.execute(
            upsert_insert(session, StakeholderEmail).values(
                incident_id=incident_id, key=f"{key}:{to}", recipient=to, subject=email.subject, text_body=email.text,
                html_body=email.html, message_id=message_id(sender_domain), attempts=0, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["key"]))
    keys = [f"{key}:{to}" for to in recipients]
    return list((await session.execute(
        select(col(StakeholderEmail.id)).where(col(StakeholderEmail.key).in_(keys), col(StakeholderEmail.sent_at).is_(None))
        .order_by(col(StakeholderEmail.id)))).scalars().all())


async def claim_email(session: AsyncSession, email_id: int) -> StakeholderEmail | None:
    """The unsent email, claimed for one delivery; None when sent or held by another process. Commits."""
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(StakeholderEmail)
        .where(col(StakeholderEmail.id) == email_id, col(StakeholderEmail.sent_at).is_(None),
               or_(col(StakeholderEmail.claimed_until).is_(None), col(StakeholderEmail.claimed_until) < now))
        .values(claimed_until=now + EMAIL_LEASE)
        .execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return None
    row = await session.get(StakeholderEmail, email_id)
    if row is not None:
        await session.refresh(row)
    return row


async def mark_email(session: AsyncSession, email_id: int, error: str | None) -> None:
    """Record a delivery (error None) or a failed attempt with its retry time. Does not commit."""
    row = await session.get(StakeholderEmail, email_id)
    assert row is not None
    row.claimed_until = None
    if error is None:
        row.sent_at, row.error, row.next_attempt_at = utcnow(), None, None
        return
    row.attempts += 1
    row.error = error[:2000]
    row.next_attempt_at = utcnow() + min(FIRST_RETRY * 2 ** max(row.attempts - 1, 0), LAST_RETRY)


async def due_emails(session: AsyncSession, *, limit: int = 100) -> list[int]:
    now = utcnow()
    return list((await session.execute(
        select(col(StakeholderEmail.id)).where(
            col(StakeholderEmail.sent_at).is_(None), col(StakeholderEmail.attempts) < MAX_ATTEMPTS,
            or_(col(StakeholderEmail.next_attempt_at).is_(None), col(StakeholderEmail.next_attempt_at) <= now),
            or_(col(StakeholderEmail.claimed_until).is_(None), col(StakeholderEmail.claimed_until) < now),
        ).order_by(col(StakeholderEmail.id)).limit(limit))).scalars().all())
