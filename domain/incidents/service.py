"""Reporting an incident: the choices offered, the stored row, and the channel set-up flow.

The row is written first (with its reporter as commander) so nothing the reporter typed is
lost; the Slack side effects then run as a resumable set-up whose progress is kept in
`incident.setup_state`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    and_,
    bindparam,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.aio import Memo
from domain.core.vocabulary import IncidentStatus, Role, SetupState, Visibility
from domain.incidents import naming
from domain.incidents.lifecycle import enter_status
from domain.incidents.notices import IncidentFacts
from domain.incidents.tags import TagTypeChoice, tag_new_incident, tag_type_choices
from domain.participants import add_participant
from domain.timeline import NewEvent
from storage.counters import next_number
from storage.models import (
    Incident,
    IncidentPriority,
    IncidentSeverity,
    IncidentType,
    IndividualContact,
    Project,
)
from storage.rows import RowMissing
from storage.types import utcnow


def duration(incident: Incident) -> str:
    seconds = int(((incident.closed_at or utcnow()) - incident.reported_at).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"


async def incident_topic(session: AsyncSession, incident: Incident, priority: str) -> str:
    commander = await session.get(IndividualContact, incident.commander_id) if incident.commander_id else None
    return naming.incident_topic(incident.name, incident.status, priority, commander.name if commander else "unassigned")


MAX_NAME_ATTEMPTS = 20


# A set-up attempt holds its incident by heartbeat: `updated_at` is refreshed every SETUP_HEARTBEAT
# while it works, so a process that died lets go within SETUP_LEASE; the same replica restarted takes
# its own set-ups back once they have been silent for OWN_SILENCE (a live holder beats more often).
SETUP_LEASE = timedelta(seconds=20)
SETUP_HEARTBEAT = timedelta(seconds=5)
OWN_SILENCE = SETUP_HEARTBEAT + timedelta(seconds=1)


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
    severities: list[Choice] = field(default_factory=list)  # `restricted` unused; `stable_ok` says allowed for Stable/Closed
    stable_ok: tuple[str, ...] = ()
    tag_types: list[TagTypeChoice] = field(default_factory=list)


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
    status: str = IncidentStatus.ACTIVE  # retroactive reports may be created Stable or Closed
    severity: str | None = None  # None: the project's default severity
    tags: tuple[int, ...] = ()  # tag ids picked in the form (the config adds its automatic ones)


async def report_choices(session: AsyncSession, catalog: Memo[Any] | None = None) -> ReportChoices:
    """Enabled projects with their enabled types, priorities, severities and tag types, in display order.
    `catalog` keeps what only the config writes between calls; tags (signals add some) are read each time."""
    projects = await catalog.get(lambda: _catalog(session)) if catalog else await _catalog(session)
    return ReportChoices([replace(p, tag_types=await tag_type_choices(session, project_id)) for project_id, p in projects])


async def _catalog(session: AsyncSession) -> list[tuple[int, ProjectChoices]]:
    """(project id, its choices without tag types) of every project that has types and priorities."""
    projects = (await session.execute(select(Project).order_by(col(Project.id)))).scalars().all()
    types = (
        await session.execute(select(IncidentType).where(col(IncidentType.enabled)).order_by(col(IncidentType.id)))
    ).scalars().all()
    priorities = (
        await session.execute(
            select(IncidentPriority).where(col(IncidentPriority.enabled)).order_by(col(IncidentPriority.view_order))
        )
    ).scalars().all()
    severities = (
        await session.execute(
            select(IncidentSeverity).where(col(IncidentSeverity.enabled)).order_by(col(IncidentSeverity.view_order))
        )
    ).scalars().all()
    result = []
    for p in projects:
        p_types = [
            Choice(t.name, t.description or "", t.default, t.visibility == Visibility.RESTRICTED)
            for t in types
            if t.project_id == p.id
        ]
        p_prios = [Choice(x.name, x.description or "", x.default) for x in priorities if x.project_id == p.id]
        p_sevs = [x for x in severities if x.project_id == p.id]
        if p_types and p_prios and p.id is not None:
            result.append((p.id, ProjectChoices(
                p.name, p.default, p_types, p_prios, [Choice(x.name, x.description or "", x.default) for x in p_sevs],
                tuple(x.name for x in p_sevs if x.allowed_for_stable))))
    return result


@dataclass(frozen=True)
class Reported:
    """A stored report: its incident and whether this call created it. Created with a set-up holder, the
    incident's set-up is claimed with the row (`claimed_at`, monotonic), and what the set-up needs first comes
    along, so it starts without reading anything back."""

    incident: Incident
    created: bool
    reporter: IndividualContact | None = None
    project_name: str = ""
    claimed_at: float | None = None


async def report_incident(
    session: AsyncSession,
    form: ReportIncidentForm,
    *,
    reporter_user_id: str,
    reporter_name: str | None,
    idempotency_key: str,
    config: WarroomConfig,
    setup_holder: str | None = None,
) -> Reported:
    """Store a reported incident with its reporter as commander; flushes, the caller commits.

    The same `idempotency_key` (the submitted view's id) returns the incident stored the first time instead
    of making a second one (the unique key refuses it; this session is then rolled back). `setup_holder`:
    the set-up is claimed for it with the row, under the channel name it will ask for.
    """
    # The modal offered what the config held when it opened; if the config changed since, fall
    # back to defaults rather than lose the report.
    project, itype, priority, severity = await _report_targets(session, form)
    reporter = await ensure_contact(session, reporter_user_id, reporter_name)
    number = await next_number(session, "incident")
    now = utcnow()
    prefix = channel_prefix(config, project.name)
    incident = Incident(
        project_id=project.id,
        number=number,
        name=f"{prefix.upper()}-{number}",
        title=form.title,
        description=form.description,
        status=IncidentStatus.ACTIVE,
        visibility=(Visibility.RESTRICTED if form.restricted or itype.visibility == Visibility.RESTRICTED
                    else Visibility.OPEN),
        incident_type_id=itype.id,
        incident_priority_id=priority.id,
        incident_severity_id=severity.id,
        reporter_id=reporter.id,
        commander_id=reporter.id,
        origin_channel_id=form.origin_channel_id,
        origin_message_permalink=form.origin_message_permalink,
        idempotency_key=idempotency_key,
        setup_state=SetupState.PENDING,
        created_at=now,
        reported_at=now,
        updated_at=now,
    )
    if setup_holder is not None:
        incident.setup_attempts, incident.setup_holder = 1, setup_holder
        incident.setup_channel_name = naming.channel_name(prefix, number, form.title)
    session.add(incident)
    try:
        await session.flush()
    except IntegrityError:
        # The same submission stored before (a replay), or a concurrent duplicate that won the race.
        await session.rollback()
        existing = (await session.execute(
            select(Incident).where(col(Incident.idempotency_key) == idempotency_key))).scalar_one_or_none()
        if existing is None:
            raise
        return Reported(existing, False)
    claimed_at = time.monotonic() if setup_holder is not None else None
    first_entry = NewEvent(f"Incident reported by {reporter.name}: {form.title}", author_id=reporter.id,
                           details={"type": itype.name, "priority": priority.name, "visibility": incident.visibility},
                           dedupe_key=f"incident:{incident.id}:created")
    await add_participant(session, incident.id, reporter, [Role.REPORTER, Role.COMMANDER], reason="Reported the incident",
                          first_in=first_entry)
    await tag_new_incident(session, config, incident, form.tags, project_name=project.name, incident_type=itype.name)
    if form.status != IncidentStatus.ACTIVE:
        await enter_status(session, incident, form.status, config, reporter.id)
    return Reported(incident, True, reporter, project.name, claimed_at)


def _kind(model: Any) -> str:
    return str(model.__tablename__)


def _targets_of(model: Any) -> Any:
    """(kind, id, project_id, name, is_default, visibility) of a project or of an enabled type, priority, severity."""
    project_row = model is Project
    return select(
        literal_column(f"'{_kind(model)}'").label("kind"), col(model.id).label("id"),
        (null() if project_row else col(model.project_id)).label("project_id"), col(model.name).label("name"),
        col(model.default).label("is_default"),
        (col(IncidentType.visibility) if model is IncidentType else null()).label("visibility"),
    ).where(*(() if project_row else (col(model.enabled),)))


# What a report names (any project; enabled types, priorities, severities), in one statement built once.
_KINDS = (IncidentType, IncidentPriority, IncidentSeverity)
_REPORT_TARGETS = union_all(*(_targets_of(model) for model in (Project, *_KINDS)))


async def _report_targets(session: AsyncSession, form: ReportIncidentForm) -> list[Row[Any]]:
    """The form's [project, incident type, priority, severity]: each the one named, else the default (of the
    project); rows with `id`, `name` and `visibility`."""
    rows = (await session.execute(_REPORT_TARGETS)).all()

    def pick(kind: str, name: str, project_id: int | None = None) -> Row[Any]:
        candidates = sorted((r for r in rows if r.kind == kind and (project_id is None or r.project_id == project_id)),
                            key=lambda r: (not r.is_default, r.id))
        return next((r for r in candidates if r.name == name), candidates[0])

    project = pick(_kind(Project), form.project)
    names = (form.incident_type, form.priority, form.severity or "")  # no severity yet: the default until triage
    return [project, *(pick(_kind(model), name, project.id) for model, name in zip(_KINDS, names, strict=True))]


def channel_prefix(config: WarroomConfig, project_name: str) -> str:
    """The channel prefix of the named project (the first project's if the config no longer has it)."""
    return next((p for p in config.projects if p.name == project_name), config.projects[0]).channel_prefix


def own_earlier_boot(instance: str, holder: str) -> ColumnElement[bool]:
    """Set-ups held by an earlier start of this replica: its instance name, another boot."""
    return and_(col(Incident.setup_holder).startswith(f"{instance}#", autoescape=True),
                col(Incident.setup_holder) != holder)


async def claim_setup(session: AsyncSession, incident: Incident, holder: str, lease: timedelta = SETUP_LEASE, *,
                      instance: str | None = None) -> bool:
    """Take the right to run the next set-up attempt for `holder` ("instance#boot"); commits.

    Claimable when never attempted, when the last attempt ended with a recorded error, or when
    an attempt has shown no progress (heartbeat) for `lease` (its process died). With `instance`
    (a restarted replica), also an attempt of an earlier boot of that instance silent for
    OWN_SILENCE. The compare-and-swap on `setup_attempts` means a double submit or two processes
    never run set-up concurrently.
    """
    now = utcnow()
    claimable = [
        col(Incident.setup_attempts) == 0,
        col(Incident.setup_error).is_not(None),
        col(Incident.updated_at) < now - lease,
    ]
    if instance is not None:
        claimable.append(and_(own_earlier_boot(instance, holder), col(Incident.updated_at) < now - OWN_SILENCE))
    result = cast(CursorResult[Any], await session.execute(
        update(Incident)
        .where(
            col(Incident.id) == incident.id,
            col(Incident.setup_attempts) == incident.setup_attempts,
            col(Incident.setup_state) != SetupState.READY,
            or_(*claimable),
        )
        .values(setup_attempts=col(Incident.setup_attempts) + 1, setup_error=None, updated_at=now,
                setup_holder=holder)
        .execution_options(synchronize_session=False)
    ))
    await session.commit()
    if (result.rowcount or 0) != 1:
        return False
    await session.refresh(incident)
    return True


async def keep_setup_lease(session: AsyncSession, incident_id: int, holder: str) -> bool:
    """Heartbeat of a running set-up attempt: still ours, still working; commits. False: lost or done."""
    result = cast(CursorResult[Any], await session.execute(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.setup_holder) == holder,
               col(Incident.setup_state) != SetupState.READY)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ))
    await session.commit()
    return (result.rowcount or 0) == 1


_REPORTER, _COMMANDER = aliased(IndividualContact), aliased(IndividualContact)
# Built once (statement building and its cache key cost more than running it): the names an incident's ids point at.
_FACTS = (
    select(col(Project.name), col(IncidentType.name), col(IncidentPriority.name), col(IncidentSeverity.name),
           col(_REPORTER.slack_user_id), col(_COMMANDER.slack_user_id))
    .select_from(Project)
    .join(IncidentType, col(IncidentType.id) == bindparam("type_id"))
    .join(IncidentPriority, col(IncidentPriority.id) == bindparam("priority_id"))
    .join(IncidentSeverity, col(IncidentSeverity.id) == bindparam("severity_id"))
    .join(_REPORTER, col(_REPORTER.id) == bindparam("reporter_id"))
    .outerjoin(_COMMANDER, col(_COMMANDER.id) == bindparam("commander_id"))
    .where(col(Project.id) == bindparam("project_id")))


async def incident_facts(session: AsyncSession, incident: Incident) -> IncidentFacts:
    """Everything a message about the incident shows, resolved to names (one statement: a set-up and every
    update build these several times)."""
    row = (await session.execute(_FACTS, {
        "type_id": incident.incident_type_id, "priority_id": incident.incident_priority_id,
        "severity_id": incident.incident_severity_id, "reporter_id": incident.reporter_id,
        "commander_id": incident.commander_id, "project_id": incident.project_id})).one_or_none()
    if row is None:
        raise RowMissing(f"a row named by incident {incident.id} does not exist")
    project, itype, priority, severity, reporter_id, commander_id = row
    return IncidentFacts(
        name=incident.name,
        title=incident.title,
        description=incident.description,
        status=incident.status,
        visibility=incident.visibility,
        incident_type=itype,
        priority=priority,
        severity=severity,
        reporter=reporter_id,
        commander=commander_id if incident.commander_id else None,
        channel_id=incident.channel_id,
        created_at=incident.created_at,
        project=project,
    )
