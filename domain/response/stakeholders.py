"""Stakeholder email: executive reports and status changes (Stable, Closed, reopened) sent to the
notifications group's addresses and to the email-only contacts of the engagement rules the incident
matches; for a Restricted incident only to insiders (its participants, current or past, and admins).
Every email is stored before it is sent and sent once; failures are retried by the resume job."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.email import EmailConfig
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import EmailMessage, PortError
from domain.core.vocabulary import IncidentStatus, Visibility
from domain.email import Composed, claim_email, compose, due_emails, mark_email, queue_emails
from domain.incidents.detail import notifications_group
from domain.incidents.notices import IncidentFacts
from domain.incidents.service import incident_facts
from domain.incidents.tags import incident_tag_names
from domain.reports import EXECUTIVE, FIELDS, ReportPosted, post_report
from domain.response.engagement import targets
from domain.timeline import record_event
from storage.models import Event, Incident, IndividualContact, Participant
from storage.rows import must_get

log = logging.getLogger(__name__)
PARALLEL_DELIVERIES = 4


async def post_report_and_email(deps: Deps, incident_id: int, kind: str, details: dict[str, str], *, channel: str,
                                author: str) -> ReportPosted:
    """`post_report`, then an executive report is emailed to the stakeholders."""
    posted = await post_report(deps, incident_id, kind, details, channel=channel, author=author)
    if kind == EXECUTIVE and deps.config.email is not None and deps.config.email.reports:
        await email_report(deps, incident_id, posted)
    return posted


async def email_report(deps: Deps, incident_id: int, posted: ReportPosted) -> int:
    sections = [(label, posted.details.get(key, "")) for key, label in FIELDS[EXECUTIVE] if posted.details.get(key)]
    key = f"report:{incident_id}:{posted.report_id}" if posted.report_id else None
    return await _email(deps, incident_id, key, headline="executive report", sections=sections)


def status_headline(old: str, new: str) -> str | None:
    """What a status change is called in an email; None for changes stakeholders are not emailed about."""
    if old == IncidentStatus.CLOSED and new != IncidentStatus.CLOSED:
        return f"was reopened ({new})"
    if new == IncidentStatus.STABLE and old != new:
        return "is now Stable"
    if new == IncidentStatus.CLOSED and old != new:
        return "is Closed"
    return None


async def email_status_change(deps: Deps, incident_id: int, old_status: str) -> int:
    """Email the stakeholders that the incident became Stable, was Closed or reopened (once per change)."""
    config = deps.config.email
    if config is None or not config.status_changes:
        return 0
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        headline = status_headline(old_status, incident.status)
        event = await _status_event(session, incident_id) if headline else None
        resolution = incident.resolution if incident.status == IncidentStatus.CLOSED else None
        await session.commit()
    if headline is None or event is None:
        return 0
    sections = [("Resolution", resolution)] if resolution else []
    return await _email(deps, incident_id, f"status:{incident_id}:{event}", headline=headline, sections=sections)


async def _status_event(session: AsyncSession, incident_id: int) -> int | None:
    """The id of the incident's latest status-change event (what makes one change's emails unique)."""
    rows = (await session.execute(select(Event).where(col(Event.incident_id) == incident_id)
                                  .order_by(col(Event.id).desc()).limit(100))).scalars().all()
    return next((e.id for e in rows if (e.details or {}).get("field") == "Status"), None)


async def recipients(session: AsyncSession, incident: Incident, facts: IncidentFacts, config: WarroomConfig,
                     mail: EmailConfig) -> list[str]:
    """Addresses to email: the notifications group's and the matching email-only contacts; for a
    Restricted incident only the addresses of its insiders (participants, current or past, and admins)."""
    _, emails = await notifications_group(session, incident.id)
    found = list(emails)
    if mail.engagement_contacts:
        found += [email for _, email in targets(config, facts, await incident_tag_names(session, incident.id)).external]
    unique = list(dict.fromkeys(e.strip().lower() for e in found if e and "@" in e))
    if incident.visibility != Visibility.RESTRICTED:
        return unique
    insiders = set((await session.execute(
        select(col(IndividualContact.email)).join(Participant, col(Participant.individual_id) == col(IndividualContact.id))
        .where(col(Participant.incident_id) == incident.id))).scalars())
    if config.admins:
        insiders |= set((await session.execute(select(col(IndividualContact.email)).where(
            col(IndividualContact.slack_user_id).in_(config.admins)))).scalars())
    allowed = {e.lower() for e in insiders if e}
    return [e for e in unique if e in allowed]


async def _email(deps: Deps, incident_id: int, key: str | None, *, headline: str,
                 sections: list[tuple[str, str]]) -> int:
    mail = deps.config.email
    if mail is None or key is None:
        return 0
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        if incident.channel_id is None:
            return 0
        facts = await incident_facts(session, incident)
        to = await recipients(session, incident, facts, deps.config, mail)
        commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
        composed: Composed = compose(mail.subject_prefix, facts, headline=headline, link=conv.channel_link(incident.channel_id),
                                     commander=(commander.name or commander.slack_user_id) if commander else "",
                                     sections=sections)
        ids = await queue_emails(session, incident_id, key, to, composed,
                                 sender_domain=mail.from_address.rpartition("@")[2])
        if to:
            await record_event(session, incident_id, f"Emailed {headline} to {len(to)} stakeholders",
                               details={"kind": "email", "key": key, "recipients": to},
                               dedupe_key=f"incident:{incident_id}:email:{key}")
        await session.commit()
    return await _send_all(deps, ids)


async def _send_all(deps: Deps, ids: list[int]) -> int:
    """Deliver the emails a few at a time (one SMTP connection each); returns how many went out."""
    gate = asyncio.Semaphore(PARALLEL_DELIVERIES)

    async def one(email_id: int) -> bool:
        async with gate:
            return await send_email(deps, email_id)

    return sum(await asyncio.gather(*(one(i) for i in ids)))


async def send_email(deps: Deps, email_id: int) -> bool:
    """Deliver one stored email unless it was sent or another process holds it; record the outcome."""
    async with deps.sessions() as session:
        row = await claim_email(session, email_id)
        if row is None:
            return False
        message = EmailMessage(row.recipient, row.subject, row.text_body, row.html_body, row.message_id)
        await session.commit()
    error = None
    try:
        await deps.ports.email.send(message)
    except PortError as exc:
        error = exc.detail or exc.code
    except Exception as exc:  # recorded and retried: a mail outage never loses the email
        error = f"{type(exc).__name__}: {exc}"
    if error:
        log.warning("email %s to %s failed: %s", email_id, message.to, error)
    async with deps.sessions() as session:
        await mark_email(session, email_id, error)
        await session.commit()
    return error is None


async def resume_emails(deps: Deps) -> int:
    """Retry stakeholder emails that failed or were never sent (crash), once their retry time came."""
    if deps.config.email is None:
        return 0
    async with deps.sessions() as session:
        ids = await due_emails(session)
    await _send_all(deps, ids)
    return len(ids)
