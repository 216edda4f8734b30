"""Workflow runs: started from Slack (the run form) or by a signal opening a case, sent to the workflow's
webhook, and followed through the status the workflow reports back.

A run is a `workflow_instance` row committed before anything is sent. Delivery (`deliver`) posts the
"started" message (its ts recorded at once), then calls the webhook under a lease, retrying with backoff
until it is accepted or `workflows.max_attempts` is spent; the runner treats a repeated request for the
same instance id as one run. Every change bumps `version` and goes on the timeline; the channel
message is edited until it shows the latest version (`shown_version`), by the job when an edit failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.access import access_of
from domain.cases.service import record_case_event
from domain.config.schema import WarroomConfig
from domain.config.workflows import WorkflowConfig
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.core.ports import PortError
from domain.core.vocabulary import WorkflowStatus
from domain.timeline import record_event
from storage.case_models import Case
from storage.db import write_gate
from storage.models import Incident
from storage.types import utcnow
from storage.workflow_models import WorkflowInstance

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=90)
BACKOFF_START, BACKOFF_MAX = 30.0, 1800.0
DUE_BATCH = 20
ARTIFACTS_MAX = 20
_RANK = {WorkflowStatus.PENDING: 0, WorkflowStatus.SUBMITTED: 1, WorkflowStatus.RUNNING: 2,
         WorkflowStatus.COMPLETED: 3, WorkflowStatus.FAILED: 3}


def callback_path(organization: str, instance_id: str) -> str:
    return f"/api/v1/{organization}/workflows/instances/{instance_id}"


def backoff(attempts: int) -> timedelta:
    """Delay before retry number `attempts`: 30 s doubling, at most 30 min."""
    return timedelta(seconds=min(BACKOFF_START * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


@dataclass(frozen=True)
class Artifact:
    name: str
    link: str


@dataclass(frozen=True)
class WorkflowRun(Notice):
    """A run as its channel message shows it (edited in place as it changes)."""

    id: str
    workflow: str
    subject: str  # INC-3 / CASE-7
    status: str
    reason: str
    creator: str | None
    parameters: dict[str, str]
    weblink: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    message: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class WorkflowChoice:
    name: str
    description: str
    parameters: list[tuple[str, str, str, bool]]  # (name, description, default, required)


@dataclass(frozen=True)
class WorkflowListing(Notice):
    """`/dispatch-list-workflows`: the enabled workflows and this incident's runs, newest first."""

    subject: str
    workflows: list[WorkflowChoice]
    runs: list[WorkflowRun] = field(default_factory=list)
    run_command: str = ""


def choices(config: WarroomConfig) -> list[WorkflowChoice]:
    return [WorkflowChoice(w.name, w.description, [(p.name, p.description, p.default, p.required) for p in w.parameters])
            for w in config.workflows.enabled()]


def run_view(row: WorkflowInstance, subject: str) -> WorkflowRun:
    return WorkflowRun(
        row.id, row.workflow, subject, row.status, row.reason, row.creator,
        {str(k): str(v) for k, v in (row.parameters or {}).items()}, row.weblink,
        tuple(Artifact(a["name"], a["link"]) for a in row.artifacts or []), row.message,
        row.error if row.status in (WorkflowStatus.PENDING, WorkflowStatus.FAILED) else None)


async def _subject(session: AsyncSession, row: WorkflowInstance) -> str:
    if row.incident_id is not None:
        incident = await session.get(Incident, row.incident_id)
        return incident.name if incident else "?"
    case = await session.get(Case, row.case_id) if row.case_id is not None else None
    return case.name if case else "?"


async def incident_runs(session: AsyncSession, incident_id: int, limit: int = 20) -> list[WorkflowRun]:
    incident = await session.get(Incident, incident_id)
    rows = (await session.execute(select(WorkflowInstance).where(col(WorkflowInstance.incident_id) == incident_id)
                                  .order_by(col(WorkflowInstance.created_at).desc()).limit(limit))).scalars()
    return [run_view(r, incident.name if incident else "?") for r in rows]


async def listing(deps: Deps, incident_id: int | None = None, case_id: int | None = None) -> WorkflowListing:
    """The workflows and the runs of an incident (or of a case)."""
    async with deps.sessions() as session:
        if incident_id is not None:
            incident = await session.get(Incident, incident_id)
            name, runs = (incident.name if incident else "?"), await incident_runs(session, incident_id)
        else:
            case = await session.get(Case, case_id)
            name = case.name if case else "?"
            runs = [run_view(r, name) for r in (await session.execute(
                select(WorkflowInstance).where(col(WorkflowInstance.case_id) == case_id)
                .order_by(col(WorkflowInstance.created_at).desc()).limit(20))).scalars()]
        await session.commit()
    return WorkflowListing(name, choices(deps.config), runs, deps.config.commands.run_workflow)


async def case_of_channel(deps: Deps, channel_id: str | None) -> tuple[int, str] | None:
    """(id, name) of the case whose own channel this is (not an incident's: an escalated case's channel
    belongs to the incident), else None."""
    if not channel_id:
        return None
    async with deps.sessions() as session:
        incident = (await session.execute(select(col(Incident.id)).where(col(Incident.channel_id) == channel_id))).first()
        case = (await session.execute(select(Case).where(col(Case.channel_id) == channel_id))).scalar_one_or_none()
        await session.commit()
    return None if incident is not None or case is None else (case.id, case.name)


async def may_run_for_case(deps: Deps, case_id: int, user_id: str) -> bool:
    """Whoever works the case (its participants: reporter, assignee, people who joined) and admins."""
    found = await access_of(deps.sessions, case_id, user_id, deps.config, deps.ports.conversation)
    return found is not None and found[1].insider


def form_errors(config: WarroomConfig, workflow: str | None, parameters: dict[str, str]) -> dict[str, str]:
    """Errors of a run form by field name (`workflow`, or a parameter's name): an unknown or disabled workflow,
    a required parameter left empty."""
    found = config.workflows.definition(workflow or "")
    if found is None or not found.enabled:
        return {"workflow": "Pick one of the workflows offered (this one is no longer configured)."}
    return {p.name: f"{p.name} is required." for p in found.parameters if p.required and not parameters.get(p.name, "").strip()}


def with_defaults(workflow: WorkflowConfig, given: dict[str, str]) -> dict[str, str]:
    """The workflow's parameters: given values (stripped), else defaults; parameters it does not declare are dropped."""
    return {p.name: (given.get(p.name) or "").strip() or p.default for p in workflow.parameters}


async def store_run(session: AsyncSession, config: WarroomConfig, workflow: WorkflowConfig, *, key: str,
                    parameters: dict[str, str], reason: str, creator: str | None, incident_id: int | None = None,
                    case_id: int | None = None) -> tuple[WorkflowInstance, bool]:
    """Store a pending run (once per `key`) and put it on the timeline; flushes, does not commit."""
    existing = (await session.execute(select(WorkflowInstance).where(
        col(WorkflowInstance.idempotency_key) == key))).scalar_one_or_none()
    if existing is not None:
        return existing, False
    now = utcnow()
    row = WorkflowInstance(id=str(uuid.uuid4()), workflow=workflow.name, incident_id=incident_id, case_id=case_id,
                           parameters=with_defaults(workflow, parameters), reason=reason.strip(), creator=creator,
                           idempotency_key=key, next_attempt_at=now, created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    who = f"<@{creator}>" if creator else "a signal"
    await _record(session, row, f"Workflow {workflow.name} requested by {who}" + (f": {row.reason}" if row.reason else ""),
                  "requested")
    return row, True


async def _record(session: AsyncSession, row: WorkflowInstance, description: str, step: str) -> None:
    details = {"workflow_instance": row.id, "status": row.status}
    dedupe = f"workflow:{row.id}:{step}"
    if row.incident_id is not None:
        await record_event(session, row.incident_id, description, source="workflow", details=details, dedupe_key=dedupe)
    elif row.case_id is not None:
        await record_case_event(session, row.case_id, description, source="workflow", details=details, dedupe_key=dedupe)


async def request_run(deps: Deps, *, workflow: str, key: str, parameters: dict[str, str], reason: str, creator: str,
                      incident_id: int | None = None, case_id: int | None = None) -> tuple[str, bool]:
    """Store a run of `workflow` for an incident (once per `key`), then deliver it (its message goes to the
    incident channel); (instance id, created)."""
    definition = deps.config.workflows.definition(workflow)
    if definition is None:
        raise ValueError(f"unknown workflow {workflow!r}")
    async with deps.sessions() as session:
        try:
            row, created = await store_run(session, deps.config, definition, key=key, parameters=parameters,
                                           reason=reason, creator=creator, incident_id=incident_id, case_id=case_id)
            instance_id = row.id
            await session.commit()
        except IntegrityError:  # the same form submitted twice at once: the other one stored it
            await session.rollback()
            row_id = (await session.execute(select(col(WorkflowInstance.id)).where(
                col(WorkflowInstance.idempotency_key) == key))).scalar_one()
            return row_id, False
    if created:
        await deliver(deps, instance_id)
    return instance_id, created


def signal_parameters(workflow: WorkflowConfig, entities: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A signal's run takes each parameter from the entities of the type of that name (several values joined by ',')."""
    by_type: dict[str, list[str]] = {}
    for entity_type, value in sorted(entities):
        by_type.setdefault(entity_type, []).append(value)
    return {p.name: ",".join(by_type[p.name]) for p in workflow.parameters if p.name in by_type}


async def store_signal_run(session: AsyncSession, config: WarroomConfig, workflow_name: str, case_id: int,
                           entities: Sequence[tuple[str, str]]) -> None:
    """The run a signal definition's `workflow` gets when it opens a case; flushes (the worker commits)."""
    workflow = config.workflows.definition(workflow_name)
    if workflow is None or not workflow.enabled:
        return
    await store_run(session, config, workflow, key=f"signal:{case_id}:{workflow.name}", reason="Started by signal",
                    parameters=signal_parameters(workflow, entities), creator=None, case_id=case_id)


async def _claim(session: AsyncSession, instance_id: str) -> WorkflowInstance | None:
    """Take the delivery lease of a pending, due run; commits."""
    now = utcnow()
    result = cast(CursorResult[Any], await session.execute(
        update(WorkflowInstance).where(
            col(WorkflowInstance.id) == instance_id, col(WorkflowInstance.status) == WorkflowStatus.PENDING,
            or_(col(WorkflowInstance.claimed_until).is_(None), col(WorkflowInstance.claimed_until) < now))
        .values(claimed_until=now + LEASE).execution_options(synchronize_session=False)))
    await session.commit()
    if not result.rowcount:
        return None
    return await session.get(WorkflowInstance, instance_id, populate_existing=True)


async def _payload(session: AsyncSession, deps: Deps, row: WorkflowInstance) -> dict[str, Any]:
    conv, config = deps.ports.conversation, deps.config
    path = callback_path(config.signals.organization, row.id)
    body: dict[str, Any] = {
        "id": row.id, "workflow": row.workflow, "parameters": row.parameters, "reason": row.reason,
        "requested_by": row.creator, "callback_url": (config.workflows.callback_base_url or "").rstrip("/") + path,
        "incident": None, "case": None}
    if row.incident_id is not None:
        incident = await session.get(Incident, row.incident_id)
        if incident is not None:
            body["incident"] = {"name": incident.name, "title": incident.title, "status": incident.status,
                                "channel": conv.channel_link(incident.channel_id) if incident.channel_id else None}
    elif row.case_id is not None:
        case = await session.get(Case, row.case_id)
        if case is not None:
            body["case"] = {"name": case.name, "title": case.title, "status": case.status,
                            "signal_definition": case.signal_definition}
    return body


async def _channel_of(session: AsyncSession, row: WorkflowInstance) -> tuple[str | None, str | None]:
    """(channel, thread) the run's message goes to: the incident channel; a case's own channel, else its card's thread."""
    if row.channel_id:
        return row.channel_id, row.thread_ts
    if row.incident_id is not None:
        incident = await session.get(Incident, row.incident_id)
        return (incident.channel_id if incident else None), None
    case = await session.get(Case, row.case_id) if row.case_id is not None else None
    if case is None:
        return None, None
    if case.channel_id:
        return case.channel_id, None
    return (case.card_channel_id, case.card_ts) if case.card_ts else (None, None)


async def deliver(deps: Deps, instance_id: str) -> None:
    """Post the run's message if not yet posted, then call the webhook once per lease; safe to repeat."""
    config = deps.config
    async with deps.sessions() as session:
        row = await _claim(session, instance_id)
        if row is None:
            return
        workflow = config.workflows.definition(row.workflow)
        payload = await _payload(session, deps, row)
        await session.commit()
    await show(deps, instance_id)
    if workflow is None or not workflow.enabled:
        outcome: str | None = "the workflow is no longer configured"
        started = None
        fatal = True
    else:
        fatal = False
        try:
            started = await deps.ports.workflows.start(workflow.name, instance_id, payload)
            outcome = None
        except PortError as exc:
            started, outcome = None, str(exc)[:1000]
    async with deps.sessions() as session:
        row = await session.get(WorkflowInstance, instance_id)
        if row is None:
            return
        row.claimed_until = None
        now = utcnow()
        if outcome is None:
            if row.status == WorkflowStatus.PENDING:  # a fast runner may have reported back already
                row.status = WorkflowStatus.SUBMITTED
            row.weblink = row.weblink or (started.weblink if started else None)
            row.error, row.next_attempt_at = None, None
            row.version, row.updated_at = row.version + 1, now
            await _record(session, row, f"Workflow {row.workflow} submitted", "submitted")
        else:
            row.attempts += 1
            row.error = outcome
            if fatal or row.attempts >= config.workflows.max_attempts:
                row.status, row.next_attempt_at = WorkflowStatus.FAILED, None
                row.version, row.updated_at = row.version + 1, now
                await _record(session, row, f"Workflow {row.workflow} could not be started: {outcome}", "failed")
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                row.version, row.updated_at = row.version + 1, now
                log.warning("workflow %s (%s): attempt %s failed: %s", row.workflow, row.id, row.attempts, outcome)
        await session.commit()
    await show(deps, instance_id)


async def show(deps: Deps, instance_id: str) -> None:
    """Post the run's message (first time) or edit it until it shows the latest version."""
    conv = deps.ports.conversation
    gate = write_gate(deps.sessions.kw["bind"])
    async with gate, deps.sessions() as session:
        row = await session.get(WorkflowInstance, instance_id)
        if row is None or (row.message_ts is not None and row.shown_version >= row.version):
            return
        channel, thread = await _channel_of(session, row)
        if channel is None:
            return
        notice, version, posted = run_view(row, await _subject(session, row)), row.version, row.message_ts
        await session.commit()
    try:
        if posted is None:
            ref = await conv.post(channel, notice, thread_ts=thread)
        else:
            await conv.update(channel, posted, notice)
    except PortError as exc:
        log.warning("workflow run %s: message not shown: %s", instance_id, exc)
        return
    async with gate, deps.sessions() as session:
        values: dict[str, Any] = {"shown_version": version}
        if posted is None:
            values |= {"channel_id": ref.channel_id, "thread_ts": thread, "message_ts": ref.ts}
        await session.execute(update(WorkflowInstance).where(
            col(WorkflowInstance.id) == instance_id, col(WorkflowInstance.shown_version) < version,
            col(WorkflowInstance.message_ts).is_(None) if posted is None else col(WorkflowInstance.message_ts) == posted)
            .values(**values).execution_options(synchronize_session=False))
        await session.commit()
    if posted is None:
        await show(deps, instance_id)  # changed while it was being posted


async def deliver_due(deps: Deps) -> int:
    """The job: deliver pending runs that are due (new signal runs, retries, runs a dead process held) and
    re-show messages behind their run; returns how many runs were touched."""
    now = utcnow()
    async with deps.sessions() as session:
        due = list((await session.execute(select(col(WorkflowInstance.id)).where(
            col(WorkflowInstance.status) == WorkflowStatus.PENDING, col(WorkflowInstance.next_attempt_at) <= now,
            or_(col(WorkflowInstance.claimed_until).is_(None), col(WorkflowInstance.claimed_until) < now))
            .order_by(col(WorkflowInstance.next_attempt_at)).limit(DUE_BATCH))).scalars())
        lagging = list((await session.execute(select(col(WorkflowInstance.id)).where(
            or_(col(WorkflowInstance.message_ts).is_(None), col(WorkflowInstance.shown_version) < col(WorkflowInstance.version)),
            col(WorkflowInstance.id).not_in(due or [""]),
            and_(col(WorkflowInstance.updated_at) > now - timedelta(days=7)))
            .order_by(col(WorkflowInstance.updated_at)).limit(DUE_BATCH))).scalars())
        await session.commit()
    for instance_id in due:
        await deliver(deps, instance_id)
    for instance_id in lagging:
        await show(deps, instance_id)
    return len(due) + len(lagging)


# ---------------------------------------------------------------------------------------------- reports back


class ReportRefused(Exception):
    """A status report refused: HTTP `status`, `code`, the offending `field`, a sentence."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class StatusReport:
    status: WorkflowStatus
    artifacts: tuple[Artifact, ...] = ()
    weblink: str | None = None
    message: str | None = None


def _text(value: str, field_name: str) -> str:
    """Text as a database stores it: no NUL (PostgreSQL refuses it), no other control characters but newlines."""
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ReportRefused(400, "invalid", f"{field_name} must not hold control characters", field_name)
    return value


def _link(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 2000 \
            or any(c.isspace() or ord(c) < 32 or c in "<>|" for c in value):
        raise ReportRefused(400, "invalid", f"{field_name} must be an http(s) URL of at most 2000 characters (no spaces, <, > or |)", field_name)
    return value


def parse_report(data: object) -> StatusReport:
    """A status report from its decoded JSON: `status` (submitted, running, completed, failed), optional
    `artifacts` ([{name, link}]), `weblink`, `message`. Raises ReportRefused 400."""
    if not isinstance(data, dict):
        raise ReportRefused(400, "invalid", "the body must be a JSON object", None)
    reported = [s.value for s in WorkflowStatus if s != WorkflowStatus.PENDING]
    status = data.get("status")
    if not isinstance(status, str) or status not in reported:
        raise ReportRefused(400, "invalid", f"status must be one of {', '.join(reported)}", "status")
    artifacts = data.get("artifacts", [])
    if artifacts is None:
        artifacts = []
    if not isinstance(artifacts, list) or len(artifacts) > ARTIFACTS_MAX:
        raise ReportRefused(400, "invalid", f"artifacts must be a list of at most {ARTIFACTS_MAX} objects", "artifacts")
    found = []
    for i, artifact in enumerate(artifacts):
        if not isinstance(artifact, dict):
            raise ReportRefused(400, "invalid", "each artifact is an object {name, link}", f"artifacts[{i}]")
        name = artifact.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ReportRefused(400, "invalid", "an artifact's name is text of 1 to 200 characters", f"artifacts[{i}].name")
        found.append(Artifact(_text(name.strip(), f"artifacts[{i}].name"), _link(artifact.get("link"), f"artifacts[{i}].link")))
    weblink = data.get("weblink")
    message = data.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > 2000):
        raise ReportRefused(400, "invalid", "message is text of at most 2000 characters", "message")
    if isinstance(message, str):
        _text(message, "message")
    return StatusReport(WorkflowStatus(status), tuple(found), None if weblink is None else _link(weblink, "weblink"),
                        message.strip() or None if isinstance(message, str) else None)


async def apply_report(deps: Deps, instance_id: str, report: StatusReport) -> tuple[str, bool]:
    """Store what the workflow reported (idempotent) and put each change on the timeline; returns (status now,
    changed). The caller then shows it (`show`), after answering: a message edit that fails or never happens
    is made by the job, which re-shows runs whose message is behind. Raises ReportRefused 404 (no such run)
    or 409 (it already finished otherwise: completed then failed, or the reverse; a late report of an earlier status is ignored)."""
    # On SQLite, reports take turns (first come, first served) rather than poll for its lock.
    async with write_gate(deps.sessions.kw["bind"]), deps.sessions() as session:
        row = await session.get(WorkflowInstance, instance_id, with_for_update=True) if _uuid(instance_id) else None
        if row is None:
            raise ReportRefused(404, "unknown_instance", "there is no workflow instance with this id", "id")
        current = WorkflowStatus(row.status)
        if current.finished and report.status.finished and report.status != current:
            raise ReportRefused(409, "conflict", f"this run already {current.value}; it cannot become {report.status.value}",
                                "status")
        changes: list[str] = []
        if _RANK[report.status] > _RANK[current]:
            row.status = report.status
            changes.append(report.status.value)
        known = [Artifact(a["name"], a["link"]) for a in row.artifacts or []]
        new = [a for a in dict.fromkeys(report.artifacts) if a not in known]
        if new:
            row.artifacts = [{"name": a.name, "link": a.link} for a in known + new]
            changes.append(", ".join(f"artifact {a.name}" for a in new))
        if report.weblink and report.weblink != row.weblink:
            row.weblink = report.weblink
            changes.append("link")
        if report.message and report.message != row.message:
            row.message = report.message
            changes.append("message")
        if not changes:
            await session.commit()
            return row.status, False
        row.version, row.updated_at = row.version + 1, utcnow()
        if row.status != WorkflowStatus.PENDING:
            row.next_attempt_at = None
        text = f"Workflow {row.workflow}: {', '.join(changes)}"
        if report.message and row.status == WorkflowStatus.FAILED:
            text += f" ({report.message[:200]})"
        await _record(session, row, text, f"v{row.version}")
        status = row.status
        await session.commit()
    return status, True


def _uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False
