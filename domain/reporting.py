"""Reporting an incident: the choices offered, the stored row, and the channel set-up flow.

The row is written first (with its reporter as commander) so nothing the reporter typed is
lost; the Slack side effects then run as a resumable set-up whose progress is kept in
`incident.setup_state`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import naming
from domain.config import WarroomConfig
from domain.contacts import ensure_contact, update_contact
from domain.notices import IncidentFacts, IncidentReported, IncidentSummary, SetupDelayed
from domain.participants import COMMANDER, REPORTER, add_participant
from domain.ports import NameTaken, PortError, Ports
from domain.timeline import record_event
from storage.counters import next_number
from storage.models import (
    Incident,
    IncidentPriority,
    IncidentSeverity,
    IncidentType,
    IndividualContact,
    Project,
)
from storage.types import utcnow

log = logging.getLogger(__name__)

ACTIVE = "Active"
OPEN, RESTRICTED = "Open", "Restricted"
SETUP_PENDING, SETUP_CHANNEL, SETUP_READY, SETUP_FAILED = "pending", "channel_created", "ready", "failed"
MAX_NAME_ATTEMPTS = 20
SETUP_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Choice:
    name: str
    description: str = ""
    default: bool = False
    restricted: bool = False


@dataclass(frozen=True)
class ProjectChoices:
    name: str
    default: bool
    types: list[Choice]
    priorities: list[Choice]
    severities: list[Choice] = ()  # `restricted` unused; `stable_ok` says allowed for Stable/Closed
    stable_ok: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportChoices:
    """What the report modal offers, per enabled project."""

    projects: list[ProjectChoices]

    def find_project(self, name: str | None) -> ProjectChoices | None:
        return next((p for p in self.projects if p.name == name), None)

    def project(self, name: str | None) -> ProjectChoices:
        """The named project, else the default one."""
        return self.find_project(name) or next((p for p in self.projects if p.default), self.projects[0])


@dataclass(frozen=True)
class ReportIncidentForm:
    """A validated report submission."""

    project: str
    title: str
    description: str
    incident_type: str
    priority: str
    restricted: bool
    origin_channel_id: str | None = None
    origin_message_permalink: str | None = None
    status: str = ACTIVE  # retroactive reports may be created Stable or Closed
    severity: str | None = None  # None: the project's default severity


async def report_choices(session: AsyncSession) -> ReportChoices:
    """Enabled projects with their enabled types and priorities, in display order (3 queries)."""
    projects = (await session.execute(select(Project).order_by(Project.id))).scalars().all()
    types = (
        await session.execute(select(IncidentType).where(IncidentType.enabled).order_by(IncidentType.id))
    ).scalars().all()
    priorities = (
        await session.execute(
            select(IncidentPriority).where(IncidentPriority.enabled).order_by(IncidentPriority.view_order)
        )
    ).scalars().all()
    severities = (
        await session.execute(
            select(IncidentSeverity).where(IncidentSeverity.enabled).order_by(IncidentSeverity.view_order)
        )
    ).scalars().all()
    result = []
    for p in projects:
        p_types = [
            Choice(t.name, t.description or "", t.default, t.visibility == RESTRICTED)
            for t in types
            if t.project_id == p.id
        ]
        p_prios = [Choice(x.name, x.description or "", x.default) for x in priorities if x.project_id == p.id]
        p_sevs = [x for x in severities if x.project_id == p.id]
        if p_types and p_prios:
            result.append(ProjectChoices(
                p.name, p.default, p_types, p_prios, [Choice(x.name, x.description or "", x.default) for x in p_sevs],
                tuple(x.name for x in p_sevs if x.allowed_for_stable)))
    return ReportChoices(result)


async def report_incident(
    session: AsyncSession,
    form: ReportIncidentForm,
    *,
    reporter_user_id: str,
    reporter_name: str | None,
    idempotency_key: str,
    config: WarroomConfig,
) -> tuple[Incident, bool]:
    """Store a reported incident with its reporter as commander; commit.

    Returns (incident, created). The same `idempotency_key` (the submitted view's id) returns
    the incident stored the first time instead of making a second one.
    """
    existing = await _by_key(session, idempotency_key)
    if existing is not None:
        return existing, False
    # The modal offered what the config held when it opened; if the config changed since, fall
    # back to defaults rather than lose the report.
    project = await _named_or_default(session, Project, None, form.project)
    itype = await _named_or_default(session, IncidentType, project.id, form.incident_type)
    priority = await _named_or_default(session, IncidentPriority, project.id, form.priority)
    severity = await _named_or_default(session, IncidentSeverity, project.id, form.severity or "")  # triage sets it later
    reporter = await ensure_contact(session, reporter_user_id, reporter_name)
    number = await next_number(session, "incident")
    now = utcnow()
    prefix = _project_config(config, project.name).channel_prefix
    incident = Incident(
        project_id=project.id,
        number=number,
        name=f"{prefix.upper()}-{number}",
        title=form.title,
        description=form.description,
        status=ACTIVE,
        visibility=RESTRICTED if form.restricted or itype.visibility == RESTRICTED else OPEN,
        incident_type_id=itype.id,
        incident_priority_id=priority.id,
        incident_severity_id=severity.id,
        reporter_id=reporter.id,
        commander_id=reporter.id,
        origin_channel_id=form.origin_channel_id,
        origin_message_permalink=form.origin_message_permalink,
        idempotency_key=idempotency_key,
        setup_state=SETUP_PENDING,
        created_at=now,
        reported_at=now,
        updated_at=now,
    )
    session.add(incident)
    try:
        await session.flush()
        await record_event(
            session,
            incident.id,
            f"Incident reported by {reporter.name}: {form.title}",
            author_id=reporter.id,
            details={"type": itype.name, "priority": priority.name, "visibility": incident.visibility},
            dedupe_key=f"incident:{incident.id}:created",
        )
        await add_participant(session, incident.id, reporter, [REPORTER, COMMANDER], reason="Reported the incident")
        if form.status != ACTIVE:
            from domain.lifecycle import enter_status  # retroactive report: the command center's lifecycle

            await enter_status(session, incident, form.status, config, reporter.id)
        await session.commit()
    except IntegrityError:
        # A concurrent duplicate submission won the race on idempotency_key.
        await session.rollback()
        existing = await _by_key(session, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return incident, True


async def _by_key(session: AsyncSession, key: str) -> Incident | None:
    return (await session.execute(select(Incident).where(Incident.idempotency_key == key))).scalar_one_or_none()


async def _named_or_default(session: AsyncSession, model, project_id: int | None, name: str):
    """The enabled row called `name`, else the default one (projects: the default project)."""
    query = select(model)
    if project_id is not None:
        query = query.where(model.project_id == project_id, model.enabled)
    rows = (await session.execute(query.order_by(model.default.desc(), model.id))).scalars().all()
    return next((r for r in rows if r.name == name), rows[0])


def _project_config(config: WarroomConfig, name: str):
    return next((p for p in config.projects if p.name == name), config.projects[0])


async def gather_all(*aws):
    """Like `asyncio.gather`, but lets every call finish before raising the first error.

    A failed call must not leave siblings running while the caller rolls back their session.
    """
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def claim_setup(session: AsyncSession, incident: Incident, lease: timedelta = SETUP_LEASE) -> bool:
    """Take the right to run the next set-up attempt; commits.

    Claimable when never attempted, when the last attempt ended with a recorded error, or when
    an attempt has shown no progress for `lease` (its process died). The compare-and-swap on
    `setup_attempts` means a double submit or two processes never run set-up concurrently.
    """
    now = utcnow()
    result = await session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.setup_attempts == incident.setup_attempts,
            Incident.setup_state != SETUP_READY,
            or_(
                Incident.setup_attempts == 0,
                Incident.setup_error.is_not(None),
                Incident.updated_at < now - lease,
            ),
        )
        .values(setup_attempts=Incident.setup_attempts + 1, setup_error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if (result.rowcount or 0) != 1:
        return False
    await session.refresh(incident)
    return True


async def incident_facts(session: AsyncSession, incident: Incident) -> IncidentFacts:
    """Everything a message about the incident shows, resolved to names."""
    project = await session.get(Project, incident.project_id)
    itype = await session.get(IncidentType, incident.incident_type_id)
    priority = await session.get(IncidentPriority, incident.incident_priority_id)
    severity = await session.get(IncidentSeverity, incident.incident_severity_id)
    reporter = await session.get(IndividualContact, incident.reporter_id)
    commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
    return IncidentFacts(
        name=incident.name,
        title=incident.title,
        description=incident.description,
        status=incident.status,
        visibility=incident.visibility,
        incident_type=itype.name,
        priority=priority.name,
        severity=severity.name,
        reporter=reporter.slack_user_id,
        commander=commander.slack_user_id if commander else None,
        channel_id=incident.channel_id,
        created_at=incident.created_at,
        project=project.name,
    )


async def setup_incident(
    sessions: async_sessionmaker[AsyncSession], incident_id: int, ports: Ports, config: WarroomConfig
) -> Incident:
    """Create and prepare the incident channel; resumable after a failure at any step.

    Independent Slack calls run concurrently. Progress is committed after each step so that a
    later attempt (redelivery, the resume job, a restart) continues where this one stopped.
    """
    conv = ports.conversation
    # Every DB step below ends with a commit before the next Slack call: a transaction (and on
    # SQLite the write lock, on Postgres a pooled connection) is never held across the network.
    async with sessions() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or incident.setup_state == SETUP_READY:
            return incident
        if not await claim_setup(session, incident):
            log.info("set-up of %s already running elsewhere", incident.name)
            return incident
        reporter = await session.get(IndividualContact, incident.reporter_id)
        project = await session.get(Project, incident.project_id)
        prefix = _project_config(config, project.name).channel_prefix
        await session.commit()
        ready = False
        try:
            if incident.channel_id is None:
                profile, channel = await gather_all(
                    conv.get_user(reporter.slack_user_id), _create_channel(conv, prefix, incident)
                )
                await update_contact(session, profile)
                incident.channel_id, incident.channel_name = channel.id, channel.name
                incident.setup_state = SETUP_CHANNEL
                await record_event(
                    session,
                    incident.id,
                    f"Incident channel #{channel.name} created",
                    dedupe_key=f"incident:{incident.id}:channel",
                )
                await session.commit()
            facts = await incident_facts(session, incident)
            commander = await session.get(IndividualContact, incident.commander_id)
            await session.commit()
            topic = naming.incident_topic(incident.name, incident.status, facts.priority, commander.name)
            from domain.creation_hooks import on_channel_ready  # the command center builds on reporting

            await gather_all(
                conv.invite(incident.channel_id, [reporter.slack_user_id]),
                conv.set_topic(incident.channel_id, topic),
                _post_summary(session, conv, config, incident, facts),
                _confirm_to_reporter(conv, incident, facts),
                on_channel_ready(sessions, incident.id, ports, config),
            )
            incident.setup_state, incident.setup_error = SETUP_READY, None
            incident.updated_at = utcnow()
            await session.commit()
            log.info("incident %s ready in #%s", incident.name, incident.channel_name)
            ready = True
        except Exception as exc:  # record any failure so the incident can be resumed, then tell the reporter
            await session.rollback()
            incident = await session.get(Incident, incident_id)
            incident.setup_state = SETUP_FAILED if incident.channel_id is None else SETUP_CHANNEL
            incident.setup_error = str(exc)[:2000]
            await session.commit()
            log.exception("set-up of %s failed (attempt %s)", incident.name, incident.setup_attempts)
            await _tell_setup_delayed(conv, incident, reporter.slack_user_id, exc)
    if ready:
        # Last: archiving a retroactively Closed incident must follow every other channel call.
        from domain.creation_hooks import close_retroactive

        await close_retroactive(sessions, incident_id, ports, config)
    return incident


async def _create_channel(conv, prefix: str, incident: Incident):
    private = incident.visibility == RESTRICTED
    for attempt in range(MAX_NAME_ATTEMPTS):
        try:
            return await conv.create_channel(
                naming.channel_name(prefix, incident.number, incident.title, attempt), private=private
            )
        except NameTaken:
            continue
    raise PortError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} attempts")


async def _post_summary(session, conv, config: WarroomConfig, incident: Incident, facts: IncidentFacts) -> None:
    resumed = incident.summary_message_ts is not None
    if not resumed:
        ref = await conv.post(incident.channel_id, IncidentSummary(facts, config.commands.model_dump()))
        incident.summary_message_ts = ref.ts
        # Committed at once: a retry must never post the summary twice.
        await session.commit()
    permalink = conv.message_link(incident.channel_id, incident.summary_message_ts)
    await gather_all(
        conv.pin(incident.channel_id, incident.summary_message_ts),
        conv.add_bookmark(incident.channel_id, f"{incident.name} summary", permalink, if_missing=resumed),
    )


async def _confirm_to_reporter(conv, incident: Incident, facts: IncidentFacts) -> None:
    if not incident.origin_channel_id or incident.origin_channel_id == incident.channel_id:
        return
    notice = IncidentReported(facts, conv.channel_link(incident.channel_id))
    try:
        await conv.post_ephemeral(incident.origin_channel_id, facts.reporter, notice)
    except PortError:
        # The origin may be a channel the bot cannot post in (e.g. a DM with someone else): use a DM.
        await conv.send_direct(facts.reporter, notice)


async def _tell_setup_delayed(conv, incident: Incident, user_id: str, exc: Exception) -> None:
    try:
        await conv.send_direct(user_id, SetupDelayed(incident.name, incident.title, str(exc)[:300]))
    except Exception:  # the DM is best effort; the failure is already recorded on the incident
        log.warning("could not tell %s about the delayed set-up of %s", user_id, incident.name)


async def resume_pending_setups(
    sessions: async_sessionmaker[AsyncSession], ports: Ports, config: WarroomConfig, *, max_attempts: int = 5
) -> int:
    """Finish set-ups left unfinished (Slack outage, crash). Returns how many were attempted.

    Only attempts that failed or went stale are picked; `setup_incident` claims each one, so
    running this in several processes at once is safe.
    """
    stale = utcnow() - SETUP_LEASE
    async with sessions() as session:
        ids = (
            await session.execute(
                select(Incident.id).where(
                    Incident.setup_state != SETUP_READY,
                    Incident.setup_attempts < max_attempts,
                    or_(Incident.setup_error.is_not(None), Incident.updated_at < stale),
                )
            )
        ).scalars().all()
    for incident_id in ids:
        await setup_incident(sessions, incident_id, ports, config)
    return len(ids)
