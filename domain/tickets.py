"""Tickets: what an incident's Jira ticket says, which workflow transition it needs, and the row that
records its progress (created, linked in the channel, in step, last failure and next retry).

Exactly one ticket per incident: a process claims the row (a lease) before any tracker call, and
looks the ticket up by the incident's unique label before creating one, so a crash between the
tracker's answer and the commit is healed by the next attempt instead of making a second ticket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.tickets import TicketsConfig
from domain.core.notices import Notice
from domain.core.ports import TicketFields, TicketPort, TicketRef, TicketState
from domain.core.vocabulary import IncidentStatus, SetupState, Visibility
from domain.incidents.notices import IncidentFacts
from storage.models import Incident, IndividualContact
from storage.ticket_models import IncidentTicket
from storage.types import utcnow

TICKET_LEASE = timedelta(minutes=2)  # longer than the adapter's deadline for a whole attempt
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=30)
SUMMARY_MAX = 255
MAX_TRANSITIONS = 3  # reopen, then the status's own transition, with one to spare


@dataclass(frozen=True)
class TicketDelayed(Notice):
    """Posted once in the channel when the ticket could not be created (or kept in step)."""

    incident_name: str
    error: str
    retry_in_seconds: int


@dataclass(frozen=True)
class TicketReady(Notice):
    """Posted after a `TicketDelayed`, when a later attempt succeeded."""

    incident_name: str
    key: str
    url: str


def ticket_label(incident_name: str) -> str:
    """The label only this incident's ticket carries, e.g. `warroom-inc-42`."""
    return "warroom-" + "-".join(incident_name.lower().split())


def wants_ticket(config: TicketsConfig | None, visibility: str) -> bool:
    return config is not None and (visibility != Visibility.RESTRICTED or config.include_restricted)


def _person(contact: IndividualContact | None) -> str:
    if contact is None:
        return "nobody yet"
    return f"{contact.name or contact.slack_user_id} ({contact.email})" if contact.email else (
        contact.name or contact.slack_user_id)


def ticket_fields(config: TicketsConfig, facts: IncidentFacts, *, channel_link: str | None,
                  reporter: IndividualContact | None, commander: IndividualContact | None) -> TicketFields:
    """The ticket of an incident: summary from the title, description from the facts, mapped priority."""
    summary = f"{facts.name}: {facts.title}"
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 1] + "…"
    lines = [facts.description.strip() or "(no description)", "",
             f"Incident: {facts.name} ({facts.project})", f"Status: {facts.status}", f"Type: {facts.incident_type}",
             f"Priority: {facts.priority}", f"Severity: {facts.severity}", f"Commander: {_person(commander)}",
             f"Reporter: {_person(reporter)}"]
    if channel_link:
        lines.append(f"Slack channel: {channel_link}")
    priorities = {name.casefold(): jira for name, jira in config.priorities.items()}
    labels = [*config.labels, ticket_label(facts.name)]
    account, email = ticket_assignee(config, commander.slack_user_id if commander else None,
                                     commander.email if commander else None)
    return TicketFields(project_key=config.project_key, issue_type=config.issue_type, summary=summary,
                        description="\n".join(lines), priority=priorities.get(facts.priority.casefold()),
                        labels=tuple(dict.fromkeys(labels)), assignee_account_id=account, assignee_email=email)


def ticket_assignee(config: TicketsConfig, slack_user_id: str | None, email: str | None) -> tuple[str | None, str | None]:
    """(Jira accountId named by `tickets.users`, else the email to look the person up by); both None when
    tickets are not assigned or there is nobody to assign."""
    if config.assignee == "none" or (slack_user_id is None and email is None):
        return None, None
    users = {key.casefold(): account for key, account in config.users.items()}
    account = users.get((slack_user_id or "").casefold()) or users.get((email or "").casefold())
    return (account, None) if account else (None, email or None)


async def ticket_people(session: AsyncSession, incident: Incident) -> tuple[IndividualContact | None,
                                                                             IndividualContact | None]:
    reporter = await session.get(IndividualContact, incident.reporter_id)
    commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
    return reporter, commander


def next_transition(config: TicketsConfig, status: str, state: TicketState) -> str | None:
    """The transition that brings the ticket closer to the incident's status; None when it is there.

    The status's own transition when offered and not a no-op; otherwise, for a reopened incident,
    the reopen transition (a Done ticket offers nothing else), after which the next call continues.
    """
    names = config.transitions
    target = {IncidentStatus.ACTIVE: names.Active, IncidentStatus.STABLE: names.Stable,
              IncidentStatus.CLOSED: names.Closed}.get(IncidentStatus(status))
    if target is None:
        return None
    if target in state.transitions:
        return target if state.transitions[target] != state.status else None
    reopen = names.reopen
    if status != IncidentStatus.CLOSED and reopen and reopen in state.transitions \
            and state.transitions[reopen] != state.status:
        return reopen
    return None


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


async def claim_ticket(session: AsyncSession, incident_id: int) -> IncidentTicket | None:
    """The incident's ticket row, claimed for one attempt (created when missing); None while another
    process holds it. Clears `needs_sync`: a change stored after this claim sets it again. Commits."""
    row = await ticket_row(session, incident_id)
    if row is None:
        try:
            async with session.begin_nested():
                session.add(IncidentTicket(incident_id=incident_id))
        except IntegrityError:
            pass  # another process inserted it first: claim that one
        await session.commit()
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(IncidentTicket)
        .where(col(IncidentTicket.incident_id) == incident_id,
               or_(col(IncidentTicket.claimed_until).is_(None), col(IncidentTicket.claimed_until) < now))
        .values(claimed_until=now + TICKET_LEASE, needs_sync=False)
        .execution_options(synchronize_session=False)))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return None
    row = await ticket_row(session, incident_id)
    if row is not None:
        await session.refresh(row)
    return row


async def ticket_row(session: AsyncSession, incident_id: int) -> IncidentTicket | None:
    return (await session.execute(
        select(IncidentTicket).where(col(IncidentTicket.incident_id) == incident_id))).scalar_one_or_none()


async def mark_needs_sync(session: AsyncSession, incident_id: int) -> bool:
    """Record that the incident changed since its ticket was last written; False when it has no ticket row."""
    result = cast(CursorResult[Any], await session.execute(
        update(IncidentTicket).where(col(IncidentTicket.incident_id) == incident_id).values(needs_sync=True)
        .execution_options(synchronize_session=False)))
    await session.commit()
    return (result.rowcount or 0) == 1


async def due_tickets(session: AsyncSession, *, limit: int = 50) -> list[int]:
    """Incidents whose ticket work is due: not created, not linked or not in step, and not waiting
    for a retry or held by another process; plus ongoing incidents with a channel and no ticket row."""
    now = utcnow()
    rows = (await session.execute(
        select(col(IncidentTicket.incident_id)).where(
            or_(col(IncidentTicket.key).is_(None), col(IncidentTicket.needs_sync), ~col(IncidentTicket.linked)),
            or_(col(IncidentTicket.next_attempt_at).is_(None), col(IncidentTicket.next_attempt_at) <= now),
            or_(col(IncidentTicket.claimed_until).is_(None), col(IncidentTicket.claimed_until) < now),
        ).order_by(col(IncidentTicket.id)).limit(limit))).scalars().all()
    missing = (await session.execute(
        select(col(Incident.id)).outerjoin(IncidentTicket, col(IncidentTicket.incident_id) == col(Incident.id))
        .where(col(IncidentTicket.id).is_(None), col(Incident.channel_id).is_not(None),
               col(Incident.setup_state) == SetupState.READY, col(Incident.status) != IncidentStatus.CLOSED)
        .order_by(col(Incident.id)).limit(limit))).scalars().all()
    return list(dict.fromkeys([*rows, *missing]))


async def write_ticket(port: TicketPort, project_key: str, name: str, fields: TicketFields, known: TicketRef | None,
                       store: Callable[[TicketRef, bool], Awaitable[None]],
                       step: Callable[[TicketState], str | None]) -> TicketRef:
    """Bring the ticket of `name` in step: the `known` one, else the one labelled for it (made by an attempt
    that died before storing it), else a new one; `store(ref, created)` records a key the moment it is known.
    Then its fields are written and it is moved by `step` until in step."""
    if known is None:
        found = await port.find_ticket(project_key, ticket_label(name))
        known = found or await port.create_ticket(fields)
        await store(known, found is None)
        if found is not None:
            await port.update_ticket(known.key, fields)
    else:  # claimed because something changed (or is unfinished): writing the fields again is harmless
        await port.update_ticket(known.key, fields)
    for _ in range(MAX_TRANSITIONS):
        transition = step(await port.ticket_state(known.key))
        if transition is None:
            break
        await port.transition_ticket(known.key, transition)
    return known
