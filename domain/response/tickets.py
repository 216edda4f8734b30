"""The incident's ticket as resumable steps: created once the channel is ready, linked in the channel,
kept in step with every update. A failure is recorded on the ticket row (with the next retry time)
and announced once in the channel; it never touches the incident's set-up state."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from domain.core.aio import until_settled
from domain.core.deps import Deps
from domain.core.ports import TicketRef
from domain.incidents.service import incident_facts
from domain.response.summary import incident_summary
from domain.tickets import (
    TicketDelayed,
    TicketReady,
    claim_ticket,
    due_tickets,
    mark_needs_sync,
    next_transition,
    retry_delay,
    ticket_fields,
    ticket_people,
    ticket_row,
    wants_ticket,
    write_ticket,
)
from domain.timeline import record_event
from storage.models import Incident
from storage.rows import RowMissing, must_get
from storage.ticket_models import IncidentTicket
from storage.types import utcnow

log = logging.getLogger(__name__)


async def ensure_ticket(deps: Deps, incident_id: int) -> None:
    """Create (or find) the incident's ticket, link it in the channel and bring it in step; idempotent.

    Does nothing without a ticket integration, for an incident without a channel, or while another
    process holds the ticket's claim (that process, or the resume job, finishes the work): a change stored
    while this attempt held the claim is written by a follow-up attempt right away.
    """
    await until_settled(lambda: _ensure_once(deps, incident_id))


async def _ensure_once(deps: Deps, incident_id: int) -> bool:
    """One attempt; True when the incident changed while it held the claim, so the ticket is out of step again."""
    config = deps.config.tickets
    if config is None:
        return False
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        if incident.channel_id is None or not wants_ticket(config, incident.visibility):
            return False
        row = await claim_ticket(session, incident_id)
        if row is None:
            return False
        facts = await incident_facts(session, incident)
        reporter, commander = await ticket_people(session, incident)
        fields = ticket_fields(config, facts, channel_link=deps.ports.conversation.channel_link(incident.channel_id),
                               reporter=reporter, commander=commander)
        key, url, linked, announced = row.key, row.url, row.linked, row.failure_announced
        await session.commit()
    port, channel = deps.ports.tickets, incident.channel_id
    try:
        ref = await write_ticket(port, config.project_key, facts.name, fields,
                                 TicketRef(key, url) if key is not None and url is not None else None,
                                 lambda ref, created: _store_key(deps, incident_id, ref, created=created),
                                 lambda state: next_transition(config, facts.status, state))
        key, url = ref.key, ref.url
        if not linked:
            await _link(deps, incident_id, key, url)
    except Exception as exc:  # recorded for the resume job; the incident itself is fine
        log.warning("ticket of %s: %s", facts.name, exc)
        await _record_failure(deps, incident_id, channel, facts.name, str(exc), announce=not announced)
        return False
    return await _record_success(deps, incident_id, channel, facts.name, key, url, recovered=announced)


async def sync_ticket(deps: Deps, incident_id: int) -> None:
    """An incident changed: mark its ticket out of step, then bring it in step (or leave it to the resume job)."""
    if deps.config.tickets is None:
        return
    async with deps.sessions() as session:
        await mark_needs_sync(session, incident_id)
    await ensure_ticket(deps, incident_id)


async def resume_tickets(deps: Deps) -> int:
    """Retry ticket work that failed or never ran (crash, tracker outage) once its retry time came."""
    if deps.config.tickets is None:
        return 0
    async with deps.sessions() as session:
        ids = await due_tickets(session)
    for incident_id in ids:
        await ensure_ticket(deps, incident_id)
    return len(ids)


async def _store_key(deps: Deps, incident_id: int, ref: TicketRef, *, created: bool) -> None:
    async with deps.sessions() as session:
        row = await _row(session, incident_id)
        row.key, row.url = ref.key, ref.url
        await record_event(session, incident_id, f"Jira ticket {ref.key} {'created' if created else 'found'}",
                           details={"kind": "ticket", "key": ref.key, "url": ref.url},
                           dedupe_key=f"incident:{incident_id}:ticket")
        await session.commit()


async def _link(deps: Deps, incident_id: int, key: str, url: str) -> None:
    """Bookmark the ticket and show it in the pinned summary (both safe to repeat)."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        summary = await incident_summary(session, incident, deps.config)
        await session.commit()
    channel = incident.channel_id
    if channel is None:
        return
    await conv.add_bookmark(channel, f"Ticket {key}", url, if_missing=True)
    if incident.summary_message_ts:
        await conv.update(channel, incident.summary_message_ts, summary)
    async with deps.sessions() as session:
        row = await _row(session, incident_id)
        row.linked = True
        await session.commit()


async def _row(session: AsyncSession, incident_id: int) -> IncidentTicket:
    row = await ticket_row(session, incident_id)
    if row is None:
        raise RowMissing(f"IncidentTicket of incident {incident_id} does not exist")
    return row


async def _record_failure(deps: Deps, incident_id: int, channel: str, name: str, error: str, *, announce: bool) -> None:
    async with deps.sessions() as session:
        row = await _row(session, incident_id)
        row.attempts += 1
        delay = retry_delay(row.attempts)
        row.error, row.next_attempt_at, row.claimed_until = error[:2000], utcnow() + delay, None
        row.needs_sync = row.needs_sync or row.key is not None
        row.failure_announced = row.failure_announced or announce
        await session.commit()
    if announce:
        try:
            await deps.ports.conversation.post(channel, TicketDelayed(name, error[:300], int(delay.total_seconds())))
        except Exception:  # the notice is best effort; the failure is recorded
            log.warning("could not tell #%s that the ticket of %s is delayed", channel, name)


async def _record_success(deps: Deps, incident_id: int, channel: str, name: str, key: str, url: str, *,
                          recovered: bool) -> bool:
    """Release the claim; True when the incident changed meanwhile (`needs_sync` set again)."""
    async with deps.sessions() as session:
        row = await _row(session, incident_id)
        row.attempts, row.error, row.next_attempt_at, row.claimed_until = 0, None, None, None
        row.failure_announced = False
        await session.commit()
        await session.refresh(row)
        changed = row.needs_sync
    if recovered:
        try:
            await deps.ports.conversation.post(channel, TicketReady(name, key, url))
        except Exception:
            log.warning("could not tell #%s that the ticket of %s is ready", channel, name)
    return changed
