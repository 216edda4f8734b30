"""Engaging a service's on-call and paging: the page is recorded first (acking the form), then sent;
a pager outage is said once, clearly, and the page retried by the resume job until it goes out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import OnCallPerson, PageRequest, PortError
from domain.core.vocabulary import Role, Visibility
from domain.paging import (
    PERSON,
    SERVICE,
    PageFailed,
    PageSent,
    claim_page,
    due_pages,
    mark_failed,
    mark_sent,
    request_page,
)
from domain.response.membership import Engage, engage
from domain.response.notices import OncallEngaged
from domain.timeline import record_event
from storage.case_models import Case, CaseEvent
from storage.models import Incident, IncidentPriority
from storage.paging_models import OncallPage
from storage.rows import must_get

log = logging.getLogger(__name__)
RESTRICTED_TITLE = "Restricted incident (details in Slack)"
OVERVIEW_BUDGET = 1.5  # seconds the engage form waits for who is on call (Slack's trigger id lasts 3 s)


@dataclass(frozen=True)
class OncallLookupFailed(Notice):
    """Ephemeral: who is on call could not be found (the pager is down); nobody was invited."""

    service: str
    error: str
    paging: bool  # a page was asked for (and is sent or retried on its own)


@dataclass(frozen=True)
class AlreadyPaged(Notice):
    """Ephemeral: this incident already paged that service (one page per incident and service)."""

    incident_name: str
    service: str
    reference: str


def oncall_services(config: WarroomConfig) -> list[str]:
    """Services offered by engage-oncall: PagerDuty's, the static schedule's and the engagement rules'."""
    names = [s.name for s in config.pagerduty.services] if config.pagerduty else []
    names += list(config.oncall.schedules) + [s.name for s in config.engagement.services]
    return list(dict.fromkeys(names))


async def oncall_overview(deps: Deps, services: list[str], *,
                          budget: float = OVERVIEW_BUDGET) -> dict[str, list[OnCallPerson] | str]:
    """Who is on call for each service, looked up together within `budget` seconds; a service whose
    lookup failed or took too long maps to the reason (a sentence)."""

    async def one(service: str) -> list[OnCallPerson] | str:
        try:
            return await asyncio.wait_for(deps.ports.oncall.on_call(service), budget)
        except TimeoutError:
            return "the pager did not answer in time; who is on call is looked up again when you engage"
        except PortError as exc:
            return f"could not be looked up ({exc.detail or exc.code})"

    found = await asyncio.gather(*(one(s) for s in services))
    return dict(zip(services, found, strict=True))


async def first_on_call(deps: Deps, service: str, *, budget: float | None = None) -> str | None:
    """The Slack id of the service's first on-call person (a case's default assignee); None when nobody is,
    or when the pager fails or takes longer than `budget` seconds (the caller goes on without one)."""
    try:
        lookup = deps.ports.oncall.resolve(service)
        people = await (asyncio.wait_for(lookup, budget) if budget is not None else lookup)
    except (PortError, TimeoutError) as exc:
        log.warning("on-call of %s not found: %s", service, exc or "timed out")
        return None
    return people[0] if people else None


async def engage_oncall(deps: Deps, incident_id: int, service: str, *, actor: str, page: bool = False) -> list[str]:
    """Invite the service's on-call people as observers, announce it, log it, page when asked (once per
    incident and service). Returns who was invited."""
    ports = deps.ports
    async with deps.sessions() as session:  # stored first: this commit acks the form
        incident = await must_get(session, Incident, incident_id)
        author = await ensure_contact(session, actor)
        row = None
        if page:
            row, _ = await request_page(session, incident.id, incident.name, SERVICE, service,
                                        reason=f"the {service} on-call", requested_by=actor)
        await session.commit()
    channel = incident.channel_id

    async def paging() -> None:  # alongside the invitation: a page never waits for the on-call lookup
        if row is None:
            return
        if row.sent_at is None:
            await send_page(deps, row.id)
        elif channel is not None:
            await tell(deps, channel, actor, AlreadyPaged(incident.name, service, row.reference or row.dedup_key))

    async def inviting() -> list[str]:
        try:
            users = await ports.oncall.resolve(service)
            lookup_error = None
        except PortError as exc:
            users, lookup_error = [], exc.detail or exc.code
        if lookup_error is None:
            await engage(deps, incident_id, [Engage(u, (Role.OBSERVER,), f"On call for {service}") for u in users],
                         added_by=actor)
        async with deps.sessions() as session:
            if lookup_error is None:
                await record_event(session, incident_id, f"{service} on-call engaged: {len(users)} people"
                                   + (" (paged)" if page else ""), author_id=author.id,
                                   details={"service": service, "users": users, "paged": page})
            else:
                await record_event(session, incident_id, f"{service} on-call could not be looked up: {lookup_error}"[:500],
                                   author_id=author.id, details={"service": service, "error": lookup_error, "paged": page})
            await session.commit()
        if channel is not None:  # the command runs in the incident's channel: it exists
            if lookup_error is None:
                await ports.conversation.post(channel, OncallEngaged(incident.name, service, users, page, actor))
            else:
                await tell(deps, channel, actor, OncallLookupFailed(service, lookup_error, page))
        return users

    users, _ = await gather_all(inviting(), paging())
    return users


async def tell(deps: Deps, channel: str, user_id: str, notice: Notice) -> None:
    """Ephemeral to `user_id` in the channel, or a DM when Slack refuses it (e.g. not a member)."""
    try:
        await deps.ports.conversation.post_ephemeral(channel, user_id, notice)
    except PortError:
        await deps.ports.conversation.send_direct(user_id, notice)


async def page_person(deps: Deps, incident_id: int, user_id: str, email: str | None, *, reason: str) -> None:
    """Page one person for the incident (once per incident and person)."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        row, new = await request_page(session, incident.id, incident.name, PERSON, user_id, reason=reason, email=email)
        await session.commit()
    if new or row.sent_at is None:
        await send_page(deps, row.id)


@dataclass(frozen=True)
class _Where:
    """What a page says and where its outcome is told: the incident channel, or a case card's thread."""

    request: PageRequest
    name: str
    channel: str | None
    thread_ts: str | None = None


async def _page_context(deps: Deps, session: AsyncSession, row: OncallPage) -> _Where:
    conv = deps.ports.conversation
    extra = {"requested by": row.requested_by or "warroom"}
    if row.case_id is not None:  # a case's page: what it says was fixed when it was asked for
        case = await must_get(session, Case, row.case_id)
        request = PageRequest(row.dedup_key, case.name, row.summary or case.name, row.link or "", case.priority, extra)
        return _Where(request, case.name, case.card_channel_id, case.card_ts)
    incident = await must_get(session, Incident, row.incident_id)
    priority = await session.get(IncidentPriority, incident.incident_priority_id)
    channel = incident.channel_id
    # A pager's users are outside a Restricted incident: its title never leaves Slack.
    title = RESTRICTED_TITLE if incident.visibility == Visibility.RESTRICTED else incident.title
    request = PageRequest(row.dedup_key, incident.name, title, conv.channel_link(channel) if channel else "",
                          priority.name if priority else "", extra)
    return _Where(request, incident.name, channel)


async def _log(session: AsyncSession, row: OncallPage, description: str, details: dict[str, str], *,
               dedupe_key: str | None = None) -> None:
    """On the incident's timeline, or the case's."""
    if row.case_id is not None:
        session.add(CaseEvent(case_id=row.case_id, source="warroom", description=description, details=details))
    elif row.incident_id is not None:
        await record_event(session, row.incident_id, description, details=details, dedupe_key=dedupe_key)


async def send_page(deps: Deps, page_id: int) -> bool:
    """Send a recorded page unless it went out already or another process is sending it; a failure is
    recorded for a retry and said once (to whoever asked, else in the channel or the case card's thread).
    Returns whether it was sent."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        row = await claim_page(session, page_id)
        if row is None:
            return False
        where = await _page_context(deps, session, row)
        kind, target, email, label, asker = row.target_kind, row.target, row.email, row.reason, row.requested_by
        await session.commit()
    request, channel = where.request, where.channel
    try:
        if kind == SERVICE:
            reference = await deps.ports.oncall.page(target, request)
        else:
            reference = await deps.ports.oncall.page_person(target, email, request)
    except Exception as exc:  # recorded and retried: a pager outage never loses the page
        error = exc.detail or exc.code if isinstance(exc, PortError) else f"{type(exc).__name__}: {exc}"
        log.warning("page %s of %s failed: %s", request.dedup_key, where.name, error)
        async with deps.sessions() as session:
            failed, delay, announce = await mark_failed(session, page_id, error)
            if announce:
                await _log(session, failed, f"Page of {label} failed: {error}"[:500],
                           {"kind": "page", "dedup_key": failed.dedup_key, "error": error})
            await session.commit()
        if announce and channel is not None:
            notice = PageFailed(where.name, label, error[:300], int(delay.total_seconds()))
            try:
                if asker:
                    await tell(deps, channel, asker, notice)
                else:
                    await conv.post(channel, notice, thread_ts=where.thread_ts)
            except Exception:  # the notice is best effort; the failure is recorded
                log.warning("could not tell %s that a page failed", where.name)
        return False
    async with deps.sessions() as session:
        sent = await mark_sent(session, page_id, reference)
        await _log(session, sent, f"Paged {label}" + (f" ({reference})" if reference else ""),
                   {"kind": "page", "dedup_key": sent.dedup_key, "reference": reference},
                   dedupe_key=f"incident:{sent.incident_id}:page-sent:{sent.dedup_key}")
        recovered = sent.failure_announced
        await session.commit()
    if recovered and channel is not None:
        try:
            await conv.post(channel, PageSent(where.name, label, reference), thread_ts=where.thread_ts)
        except Exception:
            log.warning("could not tell %s that a page went out", where.name)
    return True


async def resume_pages(deps: Deps) -> int:
    """Retry pages that failed (pager outage) or were never sent (crash), once their retry time came."""
    async with deps.sessions() as session:
        ids = await due_pages(session)
    for page_id in ids:
        await send_page(deps, page_id)
    return len(ids)
