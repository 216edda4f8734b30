"""Incident resources in Google (Drive folder, incident document, review document, Meet bridge): the rows
recording each one's progress, what the documents say, and who may see them.

Every resource is made by a recorded, resumable step: a process claims the incident's row of that
kind (a lease) before any call, and every create is preceded by a look-up by an incident-unique key
(the file's appProperties, the calendar event's id), so a crash between Google's answer and the
commit is healed by the next attempt instead of making a second folder, document or bridge.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.google import GoogleConfig
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import PortError
from domain.core.vocabulary import IncidentStatus, SetupState, Visibility
from domain.incidents.notices import IncidentFacts
from domain.timeline import record_event
from storage.google_models import IncidentResource
from storage.models import Incident, IndividualContact, Participant
from storage.report_models import IncidentReport
from storage.ticket_models import IncidentTicket
from storage.types import utcnow
from storage.upsert import upsert_insert

log = logging.getLogger(__name__)
RESOURCE_LEASE = timedelta(minutes=2)  # longer than the adapter's deadline for a whole attempt
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=30)

FOLDER, DOCUMENT, REVIEW, CONFERENCE = "folder", "document", "review", "conference"
TITLES = {DOCUMENT: "Incident document", REVIEW: "Post-incident review", CONFERENCE: "Video call"}
WHAT = {DOCUMENT: "incident document", REVIEW: "post-incident review document", CONFERENCE: "video call (Google Meet)"}
_ASSIGNEE = re.compile(r"(?<![\w.+-])\+([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


@dataclass(frozen=True)
class ResourceDelayed(Notice):
    """Posted once in the channel when a resource could not be made yet."""

    incident_name: str
    what: str  # e.g. "incident document"
    error: str
    retry_in_seconds: int
    exists: bool = False  # made and linked: what failed is bringing its sharing in step


@dataclass(frozen=True)
class ResourceReady(Notice):
    """Posted after a `ResourceDelayed` when a later attempt succeeded (and for a review document, always)."""

    incident_name: str
    what: str
    url: str


def resource_key(incident_name: str, kind: str) -> str:
    """The mark only this incident's resource of `kind` carries, e.g. `warroom-inc-42-document`."""
    return "warroom-" + "-".join(incident_name.lower().split()) + f"-{kind}"


def wants_documents(config: WarroomConfig, visibility: str) -> bool:
    docs = config.google.documents if config.google else None
    return docs is not None and (visibility != Visibility.RESTRICTED or docs.include_restricted)


def wants_conference(config: WarroomConfig, visibility: str) -> bool:
    conf = config.conference
    return conf is not None and config.google is not None and (
        visibility != Visibility.RESTRICTED or conf.include_restricted)


def may_share(google: GoogleConfig, email: str | None) -> bool:
    """Whether `email` may be given access (the configured domains, if any)."""
    if not email or "@" not in email or google.documents is None:
        return False
    domains = google.documents.share_domains
    return not domains or email.rsplit("@", 1)[1].lower() in domains


def assignees_of(content: str) -> list[str]:
    """Emails a comment assigns (`+name@company.com`), in order, once each."""
    return list(dict.fromkeys(m.lower() for m in _ASSIGNEE.findall(content or "")))


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def _person(contact: IndividualContact | None) -> tuple[str, str]:
    if contact is None:
        return "", ""
    return contact.name or contact.slack_user_id, contact.email or ""


async def document_variables(session: AsyncSession, incident: Incident, facts: IncidentFacts, *,
                             channel_link: str | None) -> dict[str, str]:
    """The `{{name}}` variables a template document may use (listed in the README)."""
    commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
    reporter = await session.get(IndividualContact, incident.reporter_id)
    ticket = (await session.execute(select(IncidentTicket).where(
        col(IncidentTicket.incident_id) == incident.id))).scalar_one_or_none()
    conference = await resource_row(session, incident.id, CONFERENCE)
    document = await resource_row(session, incident.id, DOCUMENT)
    (commander_name, commander_email), (reporter_name, reporter_email) = _person(commander), _person(reporter)
    return {
        "name": facts.name, "title": facts.title, "description": facts.description, "status": facts.status,
        "type": facts.incident_type, "priority": facts.priority, "severity": facts.severity,
        "project": facts.project, "visibility": facts.visibility,
        "commander_fullname": commander_name, "commander_email": commander_email,
        "reporter_fullname": reporter_name, "reporter_email": reporter_email,
        "ticket_key": ticket.key or "" if ticket else "", "ticket_weblink": ticket.url or "" if ticket else "",
        "conference_weblink": conference.url or "" if conference else "",
        "document_weblink": document.url or "" if document else "",
        "channel_weblink": channel_link or "",
        "created_at": facts.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "resolution": incident.resolution or "",
    }


# ---------------------------------------------------------------------- rows

async def resource_row(session: AsyncSession, incident_id: int, kind: str) -> IncidentResource | None:
    return (await session.execute(select(IncidentResource).where(
        col(IncidentResource.incident_id) == incident_id, col(IncidentResource.kind) == kind))).scalar_one_or_none()


async def conference_link(session: AsyncSession, channel_id: str) -> str | None:
    """The bridge of the incident whose channel this is, once it exists."""
    return (await session.execute(
        select(col(IncidentResource.url)).join(Incident, col(Incident.id) == col(IncidentResource.incident_id))
        .where(col(Incident.channel_id) == channel_id, col(IncidentResource.kind) == CONFERENCE))).scalar_one_or_none()


async def incident_of_channel(session: AsyncSession, channel_id: str) -> int | None:
    return (await session.execute(select(col(Incident.id)).where(col(Incident.channel_id) == channel_id))).scalar_one_or_none()


async def claim_resource(session: AsyncSession, incident_id: int, kind: str) -> IncidentResource | None:
    """The incident's row of `kind`, claimed for one attempt (created when missing); None while another
    process holds it. Clears `needs_sync`: a change stored after this claim sets it again. Commits."""
    now = utcnow()
    # One write transaction (on SQLite the single writer lock is taken once): the row if missing, then the claim.
    await session.execute(upsert_insert(session, IncidentResource).values(
        incident_id=incident_id, kind=kind, attempts=0, failure_announced=False, linked=False, needs_sync=False,
        shared_with=[], created_at=now).on_conflict_do_nothing(index_elements=["incident_id", "kind"]))
    result = cast(CursorResult[Any], await session.execute(
        update(IncidentResource)
        .where(col(IncidentResource.incident_id) == incident_id, col(IncidentResource.kind) == kind,
               or_(col(IncidentResource.claimed_until).is_(None), col(IncidentResource.claimed_until) < now))
        .values(claimed_until=now + RESOURCE_LEASE, needs_sync=False)
        .execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return None
    row = await resource_row(session, incident_id, kind)
    if row is not None:
        await session.refresh(row)
    return row


async def mark_needs_sync(session: AsyncSession, incident_id: int, kind: str) -> bool:
    """Record that the resource must be brought in step (e.g. shared with someone new); commits."""
    result = cast(CursorResult[Any], await session.execute(
        update(IncidentResource).where(col(IncidentResource.incident_id) == incident_id,
                                       col(IncidentResource.kind) == kind).values(needs_sync=True)
        .execution_options(synchronize_session=False)))
    await session.commit()
    return (result.rowcount or 0) == 1


async def due_resources(session: AsyncSession, kinds: list[str], *, limit: int = 50) -> list[tuple[int, str]]:
    """(incident id, kind) of resource work that is due: not made, not linked or out of step, and not
    waiting for a retry or held by another process; plus ongoing incidents with a channel and no row of a kind."""
    now = utcnow()
    rows = (await session.execute(
        select(col(IncidentResource.incident_id), col(IncidentResource.kind)).where(
            col(IncidentResource.kind).in_(kinds),
            or_(col(IncidentResource.external_id).is_(None), col(IncidentResource.needs_sync),
                ~col(IncidentResource.linked)),
            or_(col(IncidentResource.next_attempt_at).is_(None), col(IncidentResource.next_attempt_at) <= now),
            or_(col(IncidentResource.claimed_until).is_(None), col(IncidentResource.claimed_until) < now),
        ).order_by(col(IncidentResource.id)).limit(limit))).all()
    due = [(i, k) for i, k in rows]
    for kind in kinds:
        if kind == REVIEW:
            continue  # made when the incident becomes Stable, never for incidents that are merely missing one
        missing = (await session.execute(
            select(col(Incident.id)).outerjoin(IncidentResource, (col(IncidentResource.incident_id) == col(Incident.id))
                                               & (col(IncidentResource.kind) == kind))
            .where(col(IncidentResource.id).is_(None), col(Incident.channel_id).is_not(None),
                   col(Incident.setup_state) == SetupState.READY, col(Incident.status) != IncidentStatus.CLOSED)
            .order_by(col(Incident.id)).limit(limit))).scalars().all()
        due += [(i, kind) for i in missing]
    return list(dict.fromkeys(due))


async def participant_emails(session: AsyncSession, incident_id: int) -> list[str]:
    """Emails of the incident's active participants, in the order they joined."""
    return [e for e in (await session.execute(
        select(col(IndividualContact.email))
        .join(Participant, col(Participant.individual_id) == col(IndividualContact.id))
        .where(col(Participant.incident_id) == incident_id, col(Participant.inactive_at).is_(None))
        .order_by(col(Participant.id)))).scalars() if e]


# ---------------------------------------------------------------------- executive reports
# A recorded step of its own: `save_report` marks an executive report `pending` in the report's transaction;
# `append_report` claims it, reads the document and appends the report unless its heading is already there (a
# crash between Google's answer and the commit), then records it `appended`. A failure is stored with the next
# retry time and `resume_report_appends` (the resume job) tries again; the report itself is posted regardless.

REPORT_PENDING, REPORT_APPENDED, REPORT_SKIPPED = "pending", "appended", "skipped"


def report_marker(kind: str, report_id: int) -> str:
    """What only this report's paragraph in the document carries."""
    return f"{kind.capitalize()} report #{report_id},"


def report_text(kind: str, report_id: int, details: dict[str, str], author: str, when: str) -> str:
    """A report as appended to the incident document."""
    lines = [f"\n\n{report_marker(kind, report_id)} {when} ({author})\n"]
    lines += [f"{name.replace('_', ' ').capitalize()}: {value}\n" for name, value in details.items()]
    return "".join(lines)


def wants_report_appended(config: WarroomConfig, kind: str) -> bool:
    return kind == "executive" and config.google is not None and config.google.documents is not None


async def append_report(deps: Deps, report_id: int) -> bool:
    """Append a pending report to its incident's document, once; True when it is there now. Never raises for a
    Google failure (recorded and retried by the resume job); does nothing while another process holds it."""
    if deps.config.google is None or deps.config.google.documents is None:
        return False
    now = utcnow()
    async with deps.sessions() as session:
        claimed = cast(CursorResult[Any], await session.execute(
            update(IncidentReport).where(
                col(IncidentReport.id) == report_id, col(IncidentReport.document_state) == REPORT_PENDING,
                or_(col(IncidentReport.document_claimed_until).is_(None), col(IncidentReport.document_claimed_until) < now))
            .values(document_claimed_until=now + RESOURCE_LEASE).execution_options(synchronize_session=False)))
        await session.commit()
        if (claimed.rowcount or 0) != 1:
            return False
        report = await session.get(IncidentReport, report_id)
        assert report is not None
        await session.refresh(report)
        incident = await session.get(Incident, report.incident_id)
        assert incident is not None
        row = await resource_row(session, incident.id, DOCUMENT)
        author = await session.get(IndividualContact, report.author_id) if report.author_id else None
        kind, details, created = report.kind, dict(report.details), report.created_at
        await session.commit()
    if not wants_documents(deps.config, incident.visibility):
        await _report_done(deps, report_id, REPORT_SKIPPED)
        return False
    if row is None or row.external_id is None:
        log.info("incident %s has no document yet: the %s report is appended once it has", incident.id, kind)
        await _report_failed(deps, report_id, "the incident document does not exist yet")
        return False
    name = (author.name or author.slack_user_id) if author else "unknown"
    text = report_text(kind, report_id, details, name, created.strftime("%Y-%m-%d %H:%M UTC"))
    port = deps.ports.documents
    try:
        if report_marker(kind, report_id) not in await port.read_text(row.external_id):
            await port.append_text(row.external_id, text)
    except PortError as exc:
        log.warning("could not append %s report %s to the document of incident %s: %s", kind, report_id, incident.id, exc)
        await _report_failed(deps, report_id, str(exc))
        return False
    await _report_done(deps, report_id, REPORT_APPENDED, incident_id=incident.id, kind=kind, document=row.external_id)
    return True


async def _report_done(deps: Deps, report_id: int, state: str, *, incident_id: int | None = None, kind: str = "",
                       document: str | None = None) -> None:
    async with deps.sessions() as session:
        report = await session.get(IncidentReport, report_id)
        assert report is not None
        report.document_state, report.document_error = state, None
        report.document_next_attempt_at = report.document_claimed_until = None
        if incident_id is not None:
            await record_event(session, incident_id, f"{kind.capitalize()} report added to the incident document",
                               details={"kind": "document_report", "document": document, "report": report_id},
                               dedupe_key=f"report:{report_id}:document")
        await session.commit()


async def _report_failed(deps: Deps, report_id: int, error: str) -> None:
    async with deps.sessions() as session:
        report = await session.get(IncidentReport, report_id)
        assert report is not None
        report.document_attempts += 1
        report.document_error = error[:2000]
        report.document_next_attempt_at = utcnow() + retry_delay(report.document_attempts)
        report.document_claimed_until = None
        await session.commit()


async def resume_report_appends(deps: Deps, *, limit: int = 50) -> int:
    """Append the pending reports whose retry time came (a Google failure, a crash, no document yet)."""
    if deps.config.google is None or deps.config.google.documents is None:
        return 0
    now = utcnow()
    async with deps.sessions() as session:
        due = list((await session.execute(select(col(IncidentReport.id)).where(
            col(IncidentReport.document_state) == REPORT_PENDING,
            or_(col(IncidentReport.document_next_attempt_at).is_(None), col(IncidentReport.document_next_attempt_at) <= now),
            or_(col(IncidentReport.document_claimed_until).is_(None), col(IncidentReport.document_claimed_until) < now))
            .order_by(col(IncidentReport.id)).limit(limit))).scalars())
        await session.commit()
    for report_id in due:
        await append_report(deps, report_id)
    return len(due)
