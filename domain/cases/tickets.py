"""A case's Jira ticket, for case types with `ticket: true`: created once the case is stored (a signal case's
by the resume job, so the signal worker never waits on Jira), shown on the card, kept in step with every
change people make, assigned to the case's assignee.

The same rules as an incident's ticket (`domain/tickets.py`): one process at a time holds the row's claim,
the ticket is looked up by the case's own label (`warroom-case-n`) before one is created, a failure is
recorded with its next retry and noted once on the case timeline, and the case itself is never held up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.access import restricted_type
from domain.cases.cards import show_change
from domain.cases.service import CaseFacts, case_facts, record_case_event
from domain.config.schema import WarroomConfig
from domain.config.tickets import TicketsConfig
from domain.core.aio import until_settled
from domain.core.deps import Deps
from domain.core.ports import TicketFields, TicketRef, TicketState
from domain.core.vocabulary import CaseStatus, IncidentStatus, Visibility
from domain.tickets import (
    SUMMARY_MAX,
    TICKET_LEASE,
    next_transition,
    retry_delay,
    ticket_assignee,
    ticket_label,
    write_ticket,
)
from storage.case_models import Case
from storage.models import Incident, IndividualContact
from storage.ticket_models import CaseTicket
from storage.types import utcnow

log = logging.getLogger(__name__)
RESUME_BATCH = 50
# A case's status as the incident status whose configured transition it takes (New takes none).
_AS_INCIDENT = {CaseStatus.TRIAGE: IncidentStatus.ACTIVE, CaseStatus.ESCALATED: IncidentStatus.ACTIVE,
                CaseStatus.STABLE: IncidentStatus.STABLE, CaseStatus.CLOSED: IncidentStatus.CLOSED}


def ticket_types(config: WarroomConfig) -> list[str]:
    return [t.name for t in config.cases.types if t.ticket]


def case_transition(config: TicketsConfig, status: str, state: TicketState) -> str | None:
    """The next transition bringing the ticket to the case's status: Triage and Escalated as Active, Stable,
    Closed; a New case only leaves a Done ticket (reopen)."""
    target = _AS_INCIDENT.get(CaseStatus(status))
    if target is None:
        step = next_transition(config, IncidentStatus.ACTIVE, state)
        return step if step is not None and step == config.transitions.reopen else None
    return next_transition(config, target, state)


def case_ticket_fields(config: WarroomConfig, facts: CaseFacts, *, issue_type: str | None,
                       assignee_email: str | None, incident: str | None) -> TicketFields:
    tickets = config.tickets
    assert tickets is not None
    summary = f"{facts.name}: {facts.title}"
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 1] + "…"
    lines = [facts.description.strip() or "(no description)", "", f"Case: {facts.name}", f"Status: {facts.status}",
             f"Type: {facts.case_type}", f"Priority: {facts.priority}", f"Severity: {facts.severity}",
             f"Assignee: {assignee_email or facts.assignee or 'nobody yet'}",
             f"Reporter: {facts.reporter or 'a signal'}"]
    if facts.signal_definition:
        lines.append(f"Signal: {facts.signal_definition} ({facts.alert_count} alert(s))")
    if incident:
        lines.append(f"Escalated to: {incident}")
    if facts.resolution_reason:
        lines.append(f"Resolution: {facts.resolution_reason}: {facts.resolution or ''}".rstrip(": "))
    if facts.card_link:
        lines.append(f"Slack: {facts.card_link}")
    priorities = {name.casefold(): jira for name, jira in tickets.priorities.items()}
    account, email = ticket_assignee(tickets, facts.assignee, assignee_email)
    return TicketFields(project_key=tickets.project_key, issue_type=issue_type or tickets.issue_type, summary=summary,
                        description="\n".join(lines), priority=priorities.get(facts.priority.casefold()),
                        labels=tuple(dict.fromkeys([*tickets.labels, ticket_label(facts.name)])),
                        assignee_account_id=account, assignee_email=email)


async def case_ticket_row(session: AsyncSession, case_id: int) -> CaseTicket | None:
    return (await session.execute(select(CaseTicket).where(col(CaseTicket.case_id) == case_id))).scalar_one_or_none()


async def _claim(session: AsyncSession, case_id: int) -> CaseTicket | None:
    """The case's ticket row claimed for one attempt (created when missing); None while another process holds
    it. Clears `needs_sync`: a change stored after this claim sets it again. Commits."""
    if await case_ticket_row(session, case_id) is None:
        try:
            async with session.begin_nested():
                session.add(CaseTicket(case_id=case_id))
        except IntegrityError:
            pass  # another process inserted it first: claim that one
        await session.commit()
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(CaseTicket)
        .where(col(CaseTicket.case_id) == case_id,
               or_(col(CaseTicket.claimed_until).is_(None), col(CaseTicket.claimed_until) < now))
        .values(claimed_until=now + TICKET_LEASE, needs_sync=False).execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return None
    row = await case_ticket_row(session, case_id)
    if row is not None:
        await session.refresh(row)
    return row


async def _wants_ticket(session: AsyncSession, case: Case, config: WarroomConfig) -> bool:
    """Its type asks for one and, unless `include_restricted`, nothing about it is restricted (its escalation
    type or the incident it was escalated to)."""
    tickets = config.tickets
    if tickets is None or not config.cases.type(case.case_type).ticket:
        return False
    if tickets.include_restricted:
        return True
    incident = await session.get(Incident, case.incident_id) if case.incident_id else None
    if incident is not None and incident.visibility == Visibility.RESTRICTED:
        return False
    return not await restricted_type(session, case, config)


async def _assignee_email(deps: Deps, session: AsyncSession, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    contact = (await session.execute(select(IndividualContact).where(
        col(IndividualContact.slack_user_id) == user_id))).scalars().first()
    if contact is not None and contact.email:
        return contact.email
    try:
        return (await deps.ports.conversation.get_user(user_id)).email
    except Exception:  # the ticket goes on without an assignee
        return None


async def ensure_case_ticket(deps: Deps, case_id: int) -> None:
    """Create (or find) the case's ticket, bring it in step and show it on the card; idempotent. Never raises
    for a tracker failure: it is recorded and the resume job retries. A change stored while this attempt held
    the claim (its own sync found the claim taken) is written by a follow-up attempt right away."""
    await until_settled(lambda: _ensure_once(deps, case_id))


async def _ensure_once(deps: Deps, case_id: int) -> bool:
    """One attempt; True when the case changed while it held the claim, so the ticket is out of step again."""
    config, conv = deps.config, deps.ports.conversation
    tickets = config.tickets
    if tickets is None:
        return False
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or not await _wants_ticket(session, case, config):
            return False
        row = await _claim(session, case_id)
        if row is None:
            return False
        card = (case.card_channel_id, case.card_ts) if case.card_channel_id and case.card_ts else None
        facts = await case_facts(session, case, config, conv.message_link(*card) if card else None)
        incident = await session.get(Incident, case.incident_id) if case.incident_id else None
        email = await _assignee_email(deps, session, case.assignee)
        fields = case_ticket_fields(config, facts, issue_type=config.cases.type(case.case_type).ticket_issue_type,
                                    assignee_email=email, incident=incident.name if incident else None)
        key, url, linked, announced = row.key, row.url, row.linked, row.failure_announced
        await session.commit()
    port = deps.ports.tickets
    try:
        ref = await write_ticket(port, tickets.project_key, facts.name, fields,
                                 TicketRef(key, url) if key is not None and url is not None else None,
                                 lambda ref, created: _store_key(deps, case_id, ref, created=created),
                                 lambda state: case_transition(tickets, facts.status, state))
        key, url = ref.key, ref.url
        if not linked:
            await show_change(deps, case_id)  # the card shows the ticket
            async with deps.sessions() as session:
                await _set(session, case_id, linked=True)
    except Exception as exc:  # recorded for the resume job; the case itself is fine
        log.warning("ticket of %s: %s", facts.name, exc)
        await _record_failure(deps, case_id, facts.name, str(exc), note=not announced)
        return False
    async with deps.sessions() as session:
        await _set(session, case_id, attempts=0, error=None, next_attempt_at=None, claimed_until=None,
                   failure_announced=False)
        if announced:
            await record_case_event(session, case_id, f"Jira ticket {key} is in step again", source="Jira")
        await session.commit()
        return bool((await session.execute(select(col(CaseTicket.needs_sync))
                                           .where(col(CaseTicket.case_id) == case_id))).scalar())


async def sync_case_ticket(deps: Deps, case_id: int) -> None:
    """The case changed: mark its ticket out of step and bring it in step (or create it, e.g. for a case whose
    new type asks for one)."""
    if deps.config.tickets is None:
        return
    async with deps.sessions() as session:
        await session.execute(update(CaseTicket).where(col(CaseTicket.case_id) == case_id).values(needs_sync=True)
                              .execution_options(synchronize_session=False))
        await session.commit()
    await ensure_case_ticket(deps, case_id)


async def resume_case_tickets(deps: Deps) -> int:
    """Ticket work that failed or never ran (signal cases, a crash, a Jira outage), once its retry time came."""
    types = ticket_types(deps.config)
    if deps.config.tickets is None or not types:
        return 0
    now = utcnow()
    async with deps.sessions() as session:
        due = (await session.execute(
            select(col(CaseTicket.case_id)).where(
                or_(col(CaseTicket.key).is_(None), col(CaseTicket.needs_sync), ~col(CaseTicket.linked)),
                or_(col(CaseTicket.next_attempt_at).is_(None), col(CaseTicket.next_attempt_at) <= now),
                or_(col(CaseTicket.claimed_until).is_(None), col(CaseTicket.claimed_until) < now),
            ).order_by(col(CaseTicket.id)).limit(RESUME_BATCH))).scalars().all()
        missing = (await session.execute(
            select(col(Case.id)).outerjoin(CaseTicket, col(CaseTicket.case_id) == col(Case.id))
            .where(col(CaseTicket.id).is_(None), col(Case.case_type).in_(types), col(Case.status) != CaseStatus.CLOSED,
                   or_(col(Case.card_ts).is_not(None), col(Case.conversation_target).is_(None)))
            .order_by(col(Case.id)).limit(RESUME_BATCH))).scalars().all()
        await session.commit()
    ids = list(dict.fromkeys([*due, *missing]))
    for case_id in ids:
        await ensure_case_ticket(deps, case_id)
    return len(ids)


async def _set(session: AsyncSession, case_id: int, **values: object) -> None:
    await session.execute(update(CaseTicket).where(col(CaseTicket.case_id) == case_id).values(**values)
                          .execution_options(synchronize_session=False))
    await session.commit()


async def _store_key(deps: Deps, case_id: int, ref: TicketRef, *, created: bool) -> None:
    async with deps.sessions() as session:
        await session.execute(update(CaseTicket).where(col(CaseTicket.case_id) == case_id)
                              .values(key=ref.key, url=ref.url).execution_options(synchronize_session=False))
        await record_case_event(session, case_id, f"Jira ticket {ref.key} {'created' if created else 'found'}",
                                source="Jira", details={"kind": "ticket", "key": ref.key, "url": ref.url},
                                dedupe_key=f"case:{case_id}:ticket")
        await session.commit()


async def _record_failure(deps: Deps, case_id: int, name: str, error: str, *, note: bool) -> None:
    async with deps.sessions() as session:
        row = await case_ticket_row(session, case_id)
        if row is None:
            return
        row.attempts += 1
        delay: timedelta = retry_delay(row.attempts)
        row.error, row.next_attempt_at, row.claimed_until = error[:2000], utcnow() + delay, None
        row.needs_sync = row.needs_sync or row.key is not None
        row.failure_announced = row.failure_announced or note
        if note:
            await record_case_event(session, case_id, f"Jira ticket of {name} delayed ({error[:300]}); retrying in "
                                    f"{int(delay.total_seconds())} s", source="Jira")
        await session.commit()
