"""What people do to a case: open it, triage, edit, resolve, reopen, join, reply in its thread.

Every flow commits its change, then edits the card and its copy in the case's channel
(`show_change`). Refusals are raised as `CaseRuleError` with a message meant for the person who tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases.access import PRIVATE_CHANNEL, RESTRICTED_INCIDENT, access_of, who_can_add
from domain.cases.cards import publish_case, show_change
from domain.cases.feedback import request_case_feedback
from domain.cases.paging import page_assignee_if_needed
from domain.cases.service import (
    RESOLUTION_REASONS,
    TRANSITIONS,
    CaseFacts,
    CaseRuleError,
    add_case_participant,
    case_facts,
    case_of_thread,
    create_case,
    record_case_event,
    set_status,
    store_or_existing,
)
from domain.cases.tickets import sync_case_ticket
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import PortError
from domain.core.vocabulary import CaseStatus
from storage.case_models import Case
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateCaseForm:
    """A validated create-case submission."""

    title: str
    description: str
    case_type: str
    priority: str
    assignee: str | None
    own_channel: bool = False
    origin_channel_id: str | None = None
    message_permalink: str | None = None


@dataclass(frozen=True)
class CaseEditForm:
    case_id: int
    title: str
    description: str
    case_type: str
    priority: str
    severity: str
    assignee: str | None
    status: str | None = None  # None: unchanged (forms from before the field existed)
    resolution_reason: str | None = None
    resolution: str = ""


@dataclass(frozen=True)
class ResolveForm:
    case_id: int
    reason: str
    resolution: str


async def load_case(session: AsyncSession, case_id: int) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise CaseRuleError("That case no longer exists.")
    return case


async def load_facts(session: AsyncSession, case_id: int, config: WarroomConfig) -> CaseFacts:
    """What the card of a case someone acts on shows; CaseRuleError when the case no longer exists."""
    return await case_facts(session, await load_case(session, case_id), config)


async def open_case(deps: Deps, form: CreateCaseForm, *, reporter: str, key: str) -> tuple[Case, bool]:
    """Store the case (once per `key`, the submitted view's id) and post its card.

    The card goes to the type's conversation target, else to the channel the person was in.
    Returns (case, created).
    """
    config = deps.config
    ctype = config.cases.type(form.case_type)
    async with deps.sessions() as session:
        async def make():
            case, created = await create_case(
                session, config, title=form.title, description=form.description, case_type=ctype.name,
                priority=form.priority, assignee=form.assignee, reporter=reporter,
                conversation_target=ctype.conversation_target or form.origin_channel_id, idempotency_key=key)
            if created and form.message_permalink:
                await record_case_event(session, case.id, f"Opened from a message: {form.message_permalink}",
                                        author=reporter, details={"permalink": form.message_permalink},
                                        dedupe_key=f"case:{case.id}:origin-message")
            return case, created

        case, created = await store_or_existing(session, make, key)
    case = await publish_case(deps, case.id) or case
    return case, created


async def triage(deps: Deps, case_id: int, *, actor: str) -> Case:
    """New -> Triage."""
    return await _move(deps, case_id, CaseStatus.TRIAGE, actor=actor)


async def reopen(deps: Deps, case_id: int, *, actor: str) -> Case:
    """Closed -> Triage; the previous resolution is forgotten (it stays on the timeline)."""
    async with deps.sessions() as session:
        case = await load_case(session, case_id)
        if case.status != CaseStatus.CLOSED:
            raise CaseRuleError(f"{case.name} is {case.status}, not Closed: there is nothing to reopen.")
        await set_status(session, case, CaseStatus.TRIAGE, actor)
        case.resolution_reason = case.resolution = None
        await session.commit()
    await show_change(deps, case_id)
    await sync_case_ticket(deps, case_id)
    return case


async def _move(deps: Deps, case_id: int, status: str, *, actor: str) -> Case:
    async with deps.sessions() as session:
        case = await load_case(session, case_id)
        if not await set_status(session, case, status, actor):
            raise CaseRuleError(f"{case.name} is already {status}.")
        await session.commit()
    await show_change(deps, case_id)
    await sync_case_ticket(deps, case_id)
    return case


async def resolve(deps: Deps, form: ResolveForm, *, actor: str) -> Case:
    """Close the case with a resolution reason (one of RESOLUTION_REASONS) and text."""
    if form.reason not in RESOLUTION_REASONS:
        raise CaseRuleError(f"{form.reason!r} is not a resolution reason.")
    async with deps.sessions() as session:
        case = await load_case(session, form.case_id)
        if case.status == CaseStatus.CLOSED:
            raise CaseRuleError(f"{case.name} is already Closed.")
        await set_status(session, case, CaseStatus.CLOSED, actor)
        case.resolution_reason, case.resolution = form.reason, form.resolution
        await record_case_event(session, case.id, f"Resolved as {form.reason} by <@{actor}>: {form.resolution}",
                                author=actor, details={"reason": form.reason})
        await session.commit()
    await show_change(deps, form.case_id)
    await request_case_feedback(deps, form.case_id)
    await sync_case_ticket(deps, form.case_id)
    return case


async def edit_refusals(deps: Deps, form: CaseEditForm) -> dict[str, str]:
    """Why the edit form cannot be stored as submitted, by modal block id (the status move the rules forbid);
    empty when it can."""
    async with deps.sessions() as session:
        case = await session.get(Case, form.case_id)
        await session.commit()
    if case is None:
        return {"title": "That case no longer exists."}
    try:
        check_status_move(case, form.status)
    except CaseRuleError as exc:
        return {"case_status": str(exc)}
    return {}


def check_status_move(case: Case, status: str | None) -> None:
    """CaseRuleError when the edit form may not move `case` to `status`."""
    if status is None or status == case.status:
        return
    if status == CaseStatus.ESCALATED and case.incident_id is None:
        raise CaseRuleError(f"Use Escalate to make {case.name} an incident: it then becomes Escalated.")
    if status == CaseStatus.NEW:
        raise CaseRuleError(f"{case.name} was worked on already: it cannot be New again (pick Triage).")
    if status not in TRANSITIONS.get(case.status, ()):
        raise CaseRuleError(f"{case.name} is {case.status}; it cannot become {status}.")


async def edit(deps: Deps, form: CaseEditForm, *, actor: str) -> list[str]:
    """Apply the edit form; returns what changed (as timeline lines). A new assignee becomes a participant
    (and is invited to the case's own channel); on a sealed case only insiders may reassign it.

    The status follows the case rules (Escalated only through Escalate); Closed needs a resolution reason
    and a resolution, and leaving Closed forgets them (they stay on the timeline), as Reopen does."""
    config = deps.config
    found = await access_of(deps.sessions, form.case_id, actor, config, deps.ports.conversation)
    access = found[1] if found is not None else None
    if form.resolution_reason is not None and form.resolution_reason not in RESOLUTION_REASONS:
        raise CaseRuleError(f"{form.resolution_reason!r} is not a resolution reason.")
    async with deps.sessions() as session:
        case = await load_case(session, form.case_id)
        if form.assignee != case.assignee and access is not None and access.shut_out:
            raise CaseRuleError(f"Only the people working {case.name} can reassign it: ask {who_can_add(case)}.")
        status = form.status or case.status
        check_status_move(case, status)
        closed = status == CaseStatus.CLOSED
        # A form opened before someone resolved the case (its status left as it was) keeps their resolution.
        reason = (form.resolution_reason or case.resolution_reason) if closed else None
        resolution = (form.resolution or case.resolution) if closed else None
        if closed and not (reason and resolution):
            raise CaseRuleError(f"Closing {case.name} needs a resolution reason and a resolution.")
        new: dict[str, str | None] = dict(
            title=form.title[:200], description=form.description, case_type=config.cases.type(form.case_type).name,
            priority=config.cases.priority(form.priority).name, severity=config.cases.severity(form.severity).name,
            assignee=form.assignee, resolution_reason=reason, resolution=resolution)
        changes = []
        previous = case.status
        if status != case.status:
            changes.append(f"status: {case.status} -> {status}")
            await set_status(session, case, status, actor)
        for field_name, value in new.items():
            old = getattr(case, field_name)
            if old == value:
                continue
            setattr(case, field_name, value)
            if field_name == "assignee":
                changes.append(f"assignee: {_who(old)} -> {_who(value)}")
            elif field_name in ("description", "resolution"):
                changes.append(f"{field_name} edited" if value else f"{field_name} cleared")
            else:
                changes.append(f"{field_name.replace('_', ' ')}: {old or 'none'} -> {value or 'none'}")
        if not changes:
            return []
        case.updated_at = utcnow()
        if form.assignee and form.assignee != case.reporter:
            await add_case_participant(session, case.id, form.assignee, "Assignee")
        await record_case_event(session, case.id, f"Edited by <@{actor}>: " + "; ".join(changes), author=actor,
                                details={"changes": changes})
        channel = case.channel_id
        await session.commit()
    if channel and form.assignee and any(c.startswith("assignee") for c in changes):
        await deps.ports.conversation.invite(channel, [form.assignee])
    await show_change(deps, form.case_id)
    if any(c.startswith(("assignee", "priority", "status")) for c in changes):
        await page_assignee_if_needed(deps, form.case_id)
    if f"status: {previous} -> {CaseStatus.CLOSED}" in changes:
        await request_case_feedback(deps, form.case_id)
    await sync_case_ticket(deps, form.case_id)
    return changes


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"


async def join(deps: Deps, case_id: int, user: str) -> tuple[Case, bool]:
    """Make `user` a participant of the case (and invite them to its own channel). Returns (case, added).

    Refused (CaseRuleError naming whom to ask) once the case was escalated, since its channel may now be the
    incident's and the card links the incident instead, and for someone outside a sealed case (restricted
    type or private channel; see domain/cases/access.py)."""
    found = await access_of(deps.sessions, case_id, user, deps.config, deps.ports.conversation)
    if found is None:
        raise CaseRuleError("That case no longer exists.")
    case, access = found
    incident = access.incident
    if incident is not None:
        if access.sealed == RESTRICTED_INCIDENT and not access.insider:
            raise CaseRuleError(f"{case.name} was escalated; ask {who_can_add(case)} if you need to be involved.")
        where = f": it is worked in <#{incident.channel_id}>" if incident.channel_id else ""
        ask = f"; ask {who_can_add(case)} to add you" if access.shut_out else ""
        raise CaseRuleError(f"{case.name} was escalated to {incident.name}{where}{ask}.")
    if access.shut_out:
        if access.sealed == PRIVATE_CHANNEL:
            raise CaseRuleError(f"{case.name} is worked in a private channel: ask {who_can_add(case)} to invite you.")
        raise CaseRuleError(f"{case.name} is restricted to the people working it: ask {who_can_add(case)} to add you.")
    async with deps.sessions() as session:
        case = await load_case(session, case_id)
        added = await add_case_participant(session, case.id, user, "Joined")
        if added:
            await record_case_event(session, case.id, f"<@{user}> joined the case", author=user)
        await session.commit()
        # Read the channel again once the join is stored: a channel created meanwhile read the participants
        # before this commit, so it is this side's to invite them (each side writes, then reads the other's).
        await session.refresh(case)
        await session.commit()
    if case.channel_id:
        await deps.ports.conversation.invite(case.channel_id, [user])
    if added:
        await show_change(deps, case_id)
    return case, added


async def thread_reply(deps: Deps, channel_id: str, thread_ts: str, user: str) -> Case | None:
    """A person replied in a case card's thread: they work the case (unless it is sealed: the thread is seen
    by people outside it), and a New case is now in Triage."""
    case = await case_of_thread(deps.sessions, channel_id, thread_ts)
    if case is None:
        return None
    found = await access_of(deps.sessions, case.id, user, deps.config, deps.ports.conversation)
    if found is None:  # deleted meanwhile
        raise CaseRuleError("That case no longer exists.")
    _, access = found
    async with deps.sessions() as session:
        case = await load_case(session, case.id)
        added = access.sealed is None and await add_case_participant(session, case.id, user, "Replied in the thread")
        # The first reply wins (unique key): two replies at once triage the case once.
        moved = (case.status == CaseStatus.NEW
                 and await record_case_event(session, case.id, f"First reply in the thread by <@{user}>", author=user,
                                             dedupe_key=f"case:{case.id}:first-reply")
                 and await set_status(session, case, CaseStatus.TRIAGE, user))
        await session.commit()
    if moved or added:
        try:
            await show_change(deps, case.id)
        except PortError as exc:
            log.warning("card of %s not refreshed after a reply: %s", case.name, exc)
    if moved:
        await sync_case_ticket(deps, case.id)
    return case
