"""Escalating a case to an incident.

The incident is reported through the normal reporting flow (idempotency key `case:<id>:escalate`,
so a double click or a retry reuses it), its commander is the case assignee, the case timeline is
copied over, and the incident channel is set up — reusing the case's own channel when it has one.
Every step is safe to repeat: escalating again resumes where an earlier attempt stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.access import RESTRICTED_INCIDENT, access_of
from domain.cases.cards import show_change
from domain.cases.channel import INTERNAL_SOURCE
from domain.cases.notices import CaseEscalated, EscalatedFromCase
from domain.cases.service import (
    CaseFacts,
    CaseRuleError,
    case_facts,
    case_participants,
    record_case_event,
    set_status,
)
from domain.cases.tickets import sync_case_ticket
from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.deps import Deps
from domain.core.ports import MessageRef, NameTaken, PortError
from domain.core.vocabulary import CaseStatus, Role, SetupState, Visibility
from domain.incidents import naming
from domain.incidents.queries import is_participant, may_see
from domain.incidents.service import (
    MAX_NAME_ATTEMPTS,
    ProjectChoices,
    ReportIncidentForm,
    report_choices,
    report_incident,
)
from domain.response.membership import Engage, record_participants
from domain.response.setup import setup_incident
from domain.timeline import record_event
from storage.case_models import Case, CaseEvent
from storage.models import Incident, Participant, ParticipantRole, Project
from storage.rows import RowMissing, must_get
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalateForm:
    case_id: int
    title: str
    priority: str
    note: str = ""


def escalation_project(case: Case, config: WarroomConfig) -> str:
    """The project an escalated case's incident belongs to."""
    ctype = config.cases.type(case.case_type)
    return ctype.project or config.default_project().name


@dataclass(frozen=True)
class EscalationPlan:
    """What pressing Escalate leads to: finishing an escalation that stopped half-way (`resume`), or the
    escalate form offering `project`'s priorities."""

    facts: CaseFacts
    resume: EscalateForm | None = None
    project: ProjectChoices | None = None


async def plan_escalation(session: AsyncSession, case_id: int, config: WarroomConfig, *, user: str) -> EscalationPlan:
    """CaseRuleError when the case is gone, Closed, or already escalated (to outsiders of a Restricted
    incident, just "already escalated")."""
    case = await session.get(Case, case_id)
    if case is None:
        raise CaseRuleError("That case no longer exists.")
    facts = await case_facts(session, case, config)
    if case.incident_id is not None:
        incident = await must_get(session, Incident, case.incident_id)
        if not await may_see(session, incident, user, config):
            raise CaseRuleError(f"{facts.name} was already escalated.")
        if incident.setup_state == SetupState.READY:
            raise CaseRuleError(f"{facts.name} is already escalated to {incident.name}.")
        # An earlier escalation stopped half-way: finish it rather than ask again.
        return EscalationPlan(facts, resume=EscalateForm(case.id, incident.title, ""))
    if facts.status == CaseStatus.CLOSED:
        raise CaseRuleError(f"{facts.name} is Closed; reopen it before escalating.")
    choices = await report_choices(session)
    return EscalationPlan(facts, project=choices.project(escalation_project(case, config)))


async def escalate(deps: Deps, form: EscalateForm, *, actor: str, actor_name: str | None = None) -> Incident:
    """Turn the case into an incident (see the module docstring); returns the incident once set up.

    Once the case is escalated to a Restricted incident, only that incident's people (and admins) may
    resume the escalation: to anyone else (a stale Escalate form, a second click) it just was escalated.
    """
    config, conv = deps.config, deps.ports.conversation
    found = await access_of(deps.sessions, form.case_id, actor, config, conv)
    if found is None:
        raise CaseRuleError("That case no longer exists.")
    case, access = found
    if access.sealed == RESTRICTED_INCIDENT and not access.insider:
        raise CaseRuleError(f"{case.name} was already escalated.")
    # A Restricted incident never takes over a public case channel: Slack cannot make it private.
    keep_channel = False
    if case.channel_id is not None:
        try:
            keep_channel = await conv.is_private(case.channel_id)
        except PortError as exc:  # unknown: a Restricted incident gets a new private channel
            log.warning("privacy of #%s unknown (%s)", case.channel_name, exc.code)
    async with deps.sessions() as session:
        case = await must_get(session, Case, form.case_id)
        if case.incident_id is None and case.status == CaseStatus.CLOSED:
            raise CaseRuleError(f"{case.name} is Closed; reopen it before escalating.")
        ctype = config.cases.type(case.case_type)
        description = case.description or case.title
        if form.note:
            description += f"\n\nEscalation note: {form.note}"
        report = ReportIncidentForm(
            project=escalation_project(case, config), title=form.title, description=f"{description}\n\n(From {case.name})",
            incident_type=ctype.incident_type or "", priority=form.priority,
            restricted=ctype.visibility == Visibility.RESTRICTED)
        incident = (await report_incident(session, report, reporter_user_id=actor, reporter_name=actor_name,
                                          idempotency_key=f"case:{case.id}:escalate", config=config)).incident
        await session.commit()
        # Reloaded (a concurrent escalation may have won the race and rolled this session back) and
        # locked, so two escalations link the case one after the other.
        case = (await session.execute(select(Case).where(col(Case.id) == form.case_id).with_for_update()
                                      .execution_options(populate_existing=True))).scalar_one()
        reloaded = await session.get(Incident, incident.id, populate_existing=True)
        if reloaded is None:
            raise RowMissing(f"Incident {incident.id} does not exist")
        incident = reloaded
        await _link(session, case, incident, actor, form.note, keep_channel)
        await _copy_timeline(session, case, incident)
        await session.commit()
        case_channel = case.channel_id
    incident = await setup_incident(deps, incident.id)
    if incident.setup_state != SetupState.READY and incident.setup_error is None:
        # Another request (a second click, a colleague) holds the set-up and will finish every step.
        raise CaseRuleError(f"{incident.name} is already being set up for this escalation; "
                            "its channel will be ready in a moment.")
    if incident.setup_state != SetupState.READY:
        raise PortError("setup_incomplete", f"{incident.name} is stored but its channel is not ready yet")
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident.id)
        if not await may_see(session, incident, actor, config):
            # Someone else escalated it first (at the same moment) to a Restricted incident.
            raise CaseRuleError(f"{case.name} was already escalated.")
        await session.commit()
    if case_channel and case_channel == incident.channel_id:
        await _rename_case_channel(deps, incident.id, form.case_id)
    async with deps.sessions() as session:
        case = await must_get(session, Case, form.case_id)
        incident = await must_get(session, Incident, incident.id)
        # Those the escalation made participants; a later thread reply or Join brings nobody in.
        people = [p for p in await case_participants(session, case.id) if await is_participant(session, incident.id, p)]
        await session.commit()
    if people and incident.channel_id:  # (set up: it has its channel)
        await conv.invite(incident.channel_id, people)
    await _cross_link(deps, case, incident)
    await show_change(deps, case.id)
    await sync_case_ticket(deps, case.id)
    return incident


async def _link(session: AsyncSession, case: Case, incident: Incident, actor: str, note: str, keep_channel: bool) -> None:
    """Case -> Escalated and linked; the assignee commands; the case's participants (as they are when it is
    linked) and its channel carry over (a public channel only to an Open incident)."""
    linking = case.incident_id is None
    if linking:
        case.incident_id = incident.id
        await set_status(session, case, CaseStatus.ESCALATED, actor)
        await record_case_event(session, case.id, f"Escalated to {incident.name} by <@{actor}>" + (f": {note}" if note else ""),
                                author=actor, dedupe_key=f"case:{case.id}:escalated")
    if case.channel_id and incident.channel_id is None and (keep_channel or incident.visibility != Visibility.RESTRICTED):
        incident.channel_id, incident.channel_name = case.channel_id, case.channel_name
    commander = case.assignee or actor
    people = [p for p in await case_participants(session, case.id) if p != commander] if linking else []
    engaged = [Engage(commander, (Role.COMMANDER,), f"Assignee of {case.name}")] if commander != actor else []
    engaged += [Engage(p, (Role.PARTICIPANT,), f"Worked {case.name}") for p in people if p != actor]
    if engaged:
        await record_participants(session, incident, engaged, actor)
    if commander != actor:
        contact = await ensure_contact(session, commander)
        if incident.commander_id != contact.id:
            await _renounce_commander(session, incident)
            incident.commander_id = contact.id
            await record_event(session, incident.id, f"Incident command given to {contact.name} (assignee of {case.name})",
                               dedupe_key=f"incident:{incident.id}:case-commander")
    await record_event(session, incident.id, f"Escalated from {case.name}: {case.title}",
                       details={"case": case.name}, dedupe_key=f"incident:{incident.id}:from-case:{case.id}")


async def _renounce_commander(session: AsyncSession, incident: Incident) -> None:
    if incident.commander_id is None:
        return
    ids = select(col(Participant.id)).where(col(Participant.incident_id) == incident.id,
                                       col(Participant.individual_id) == incident.commander_id)
    await session.execute(update(ParticipantRole).where(
        col(ParticipantRole.participant_id).in_(ids), col(ParticipantRole.role) == Role.COMMANDER, col(ParticipantRole.renounced_at).is_(None))
        .values(renounced_at=utcnow()).execution_options(synchronize_session=False))


async def _copy_timeline(session: AsyncSession, case: Case, incident: Incident) -> None:
    """Every case timeline entry, once, at its original time."""
    entries = (await session.execute(select(CaseEvent).where(col(CaseEvent.case_id) == case.id,
                                                             col(CaseEvent.source) != INTERNAL_SOURCE)
                                     .order_by(col(CaseEvent.started_at), col(CaseEvent.id)))).scalars().all()
    for entry in entries:
        await record_event(session, incident.id, f"[{case.name}] {entry.description}", source=f"Case {case.name}",
                           details={"case": case.name, "case_event": entry.id}, started_at=entry.started_at,
                           dedupe_key=f"incident:{incident.id}:case-event:{entry.id}")


async def _rename_case_channel(deps: Deps, incident_id: int, case_id: int) -> None:
    """The case's channel became the incident's: give it the incident's channel name (once)."""
    config = deps.config
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        project = await must_get(session, Project, incident.project_id)
        prefix = next((p for p in config.projects if p.name == project.name), config.projects[0]).channel_prefix
        wanted = naming.channel_name(prefix, incident.number, incident.title)
        channel_id = incident.channel_id
        if channel_id is None:  # (called once the case's channel became the incident's)
            return
        if incident.channel_name and incident.channel_name.startswith(f"{prefix}-{incident.number}"):
            return
        await session.commit()
        for attempt in range(MAX_NAME_ATTEMPTS):
            wanted = naming.channel_name(prefix, incident.number, incident.title, attempt)
            try:
                channel = await deps.ports.conversation.rename_channel(channel_id, wanted)
                break
            except NameTaken:
                continue
        else:
            raise PortError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} attempts")
        incident.channel_name = channel.name
        case = await must_get(session, Case, case_id)
        case.channel_name = channel.name
        await record_event(session, incident.id, f"Case channel renamed #{channel.name}",
                           dedupe_key=f"incident:{incident.id}:renamed-from-case")
        await session.commit()


async def _cross_link(deps: Deps, case: Case, incident: Incident) -> None:
    """"Escalated to INC-n" in the case's thread and channel; "Escalated from CASE-n" in the incident channel."""
    conv = deps.ports.conversation
    card_channel, card_ts = case.card_channel_id, case.card_ts
    card_link = conv.message_link(card_channel, card_ts) if card_channel and card_ts else None
    # The card's thread and a case channel the incident did not take over are seen by people outside the
    # incident: for a Restricted one they only learn that the case was escalated.
    escalated = (CaseEscalated(case.name, None, None) if incident.visibility == Visibility.RESTRICTED
                 else CaseEscalated(case.name, incident.name, incident.channel_id))
    case_channel, incident_channel = case.channel_id, incident.channel_id
    posts: list[tuple[str, Callable[[], Awaitable[MessageRef]]]] = []
    if card_channel and card_ts:
        posts.append(("thread", lambda: conv.post(card_channel, escalated, thread_ts=card_ts)))
    if case_channel and case_channel != incident_channel:
        posts.append(("channel", lambda: conv.post(case_channel, escalated)))
    if incident_channel:  # (set up: it has its channel)
        from_case = EscalatedFromCase(incident.name, case.name, case.title, card_link)
        posts.append(("incident", lambda: conv.post(incident_channel, from_case)))
    for where, post in posts:
        async with deps.sessions() as session:
            first = await record_case_event(session, case.id, f"Escalation link posted ({where})", source=INTERNAL_SOURCE,
                                            dedupe_key=f"case:{case.id}:escalation-link:{where}")
            await session.commit()
        if first:
            await post()
