"""Updating an incident from the update-incident modal: options, validation, changes, Slack effects."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.contacts import ensure_contact
from domain.core.ports import ConversationPort, PortError
from domain.core.vocabulary import IncidentStatus, Visibility
from domain.incidents.detail import incident_detail
from domain.incidents.lifecycle import enter_status
from domain.incidents.queries import is_participant, may_manage_id
from domain.incidents.service import incident_facts
from domain.incidents.tags import (
    IncidentTagView,
    TagTypeChoice,
    incident_tags,
    set_incident_tags,
    tag_errors,
    tag_type_choices,
)
from domain.timeline import record_event
from storage.models import Incident, IncidentPriority, IncidentSeverity, IncidentType
from storage.rows import RowMissing
from storage.types import utcnow

ASSESSMENT_FIELDS = {"Type", "Priority", "Severity"}


@dataclass(frozen=True)
class UpdateIncidentForm:
    title: str
    description: str
    resolution: str
    incident_type: str
    priority: str
    severity: str
    status: str
    visibility: str
    tags: tuple[int, ...]  # tag ids, typed and legacy


@dataclass(frozen=True)
class UpdateOptions:
    """What the modal offers (names of enabled items of the incident's project) and its current values."""

    incident_id: int
    types: list[str]
    priorities: list[str]
    severities: list[str]
    current: UpdateIncidentForm
    tag_types: list[TagTypeChoice] = field(default_factory=list)
    current_tags: list[IncidentTagView] = field(default_factory=list)


async def update_options(session: AsyncSession, incident: Incident) -> UpdateOptions:
    async def names(model, order):
        rows = await session.execute(
            select(model.name).where(model.project_id == incident.project_id, model.enabled).order_by(order))
        return list(rows.scalars())

    facts = await incident_facts(session, incident)
    tags = await incident_tags(session, incident.id)
    current = UpdateIncidentForm(
        incident.title, incident.description, incident.resolution or "", facts.incident_type, facts.priority,
        facts.severity, incident.status, incident.visibility, tuple(t.id for t in tags))
    return UpdateOptions(
        incident.id,
        await names(IncidentType, col(IncidentType.id)),
        await names(IncidentPriority, col(IncidentPriority.view_order)),
        await names(IncidentSeverity, col(IncidentSeverity.view_order)),
        current,
        await tag_type_choices(session, incident.project_id),
        tags,
    )


async def _named(session: AsyncSession, model, project_id: int, name: str):
    return (await session.execute(
        select(model).where(model.project_id == project_id, model.name == name, model.enabled))).scalar_one_or_none()


async def check_update(session: AsyncSession, incident_id: int, form: UpdateIncidentForm) -> dict[str, str]:
    """Errors (by modal block id) only the database can tell, e.g. a severity not allowed for Stable."""
    incident = await session.get(Incident, incident_id)
    if incident is None:
        return {"title": "This incident no longer exists."}
    errors: dict[str, str] = {}
    for block, model, name in (("incident_type", IncidentType, form.incident_type),
                               ("incident_priority", IncidentPriority, form.priority),
                               ("incident_severity", IncidentSeverity, form.severity)):
        if await _named(session, model, incident.project_id, name) is None:
            errors[block] = f"{name} is no longer offered; pick another."
    severity = await _named(session, IncidentSeverity, incident.project_id, form.severity)
    if severity is not None and form.status in (IncidentStatus.STABLE, IncidentStatus.CLOSED) and not severity.allowed_for_stable:
        errors["incident_severity"] = f"Assess the severity before marking the incident {form.status} ({form.severity} is not allowed)."
    legacy = [t.id for t in await incident_tags(session, incident.id) if t.tag_type_id is None]
    closing = form.status == IncidentStatus.CLOSED and incident.status != IncidentStatus.CLOSED
    errors.update(await tag_errors(session, incident.project_id, form.tags, closing=closing, kept_legacy=legacy))
    return errors


async def check_visibility(incident: Incident, form: UpdateIncidentForm, conversation: ConversationPort) -> dict[str, str]:
    """Errors of a change to Restricted: refused while the incident channel is public, since Slack lets a bot make
    a channel private only when creating it, and a public channel stays open to the whole workspace (anyone may
    join it, read its history, see it listed)."""
    if form.visibility != Visibility.RESTRICTED or incident.visibility == Visibility.RESTRICTED or not incident.channel_id:
        return {}
    try:
        if await conversation.is_private(incident.channel_id):
            return {}
    except PortError as exc:
        return {"visibility": f"Slack did not say whether the channel is private ({exc.code}); try again."}
    return {"visibility": f"#{incident.channel_name} is public and Slack cannot make it private, so this incident "
                          "cannot be Restricted here. Report a new incident with 'Private incident' ticked and move "
                          "the work there, or have a Slack admin convert the channel to private, then try again."}


async def _notify_insiders_only(session: AsyncSession, incident: Incident, config: WarroomConfig, changed) -> None:
    """Restricting an incident: people who subscribed while it was Open but are not in it stop receiving its
    stakeholder updates (a manager may add someone back deliberately with the notifications-group command)."""
    detail = await incident_detail(session, incident.id)
    before = list(detail.notify_user_ids or [])
    kept = [u for u in before if u in config.admins or await is_participant(session, incident.id, u)]
    if kept != before:
        detail.notify_user_ids = kept
        await changed("Notifications group", f"{len(before)} people",
                      f"{len(kept)} (people outside the incident removed)")


async def update_errors(session: AsyncSession, incident_id: int, form: UpdateIncidentForm, user_id: str,
                        config: WarroomConfig) -> dict[str, str]:
    """Why a submitted update cannot be stored (by modal block id): `check_update`, then whether the
    submitter is still allowed to update the incident. Empty when it can."""
    errors = await check_update(session, incident_id, form)
    if not errors and not await may_manage_id(session, incident_id, user_id, config):
        errors = {"title": "You are no longer allowed to update this incident."}
    return errors


@dataclass(frozen=True)
class UpdateResult:
    incident_id: int
    changes: list[tuple[str, str, str]]
    old_status: str
    actor: str


async def apply_update(
    session: AsyncSession, incident_id: int, form: UpdateIncidentForm, actor_user_id: str, config: WarroomConfig
) -> UpdateResult:
    """Store the changed fields with one timeline event each; commits."""
    incident = await session.get(Incident, incident_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if incident is None:
        raise RowMissing(f"Incident {incident_id!r} does not exist")
    actor = await ensure_contact(session, actor_user_id)
    before = await update_options(session, incident)
    old = before.current
    old_status = incident.status
    changes: list[tuple[str, str, str]] = []

    async def changed(label: str, old_value: str, new_value: str) -> None:
        changes.append((label, old_value, new_value))
        kind = "assessment" if label in ASSESSMENT_FIELDS else "field"
        await record_event(session, incident.id, f"Incident {kind} updated: {label} changed from {old_value or '—'} to {new_value or '—'}",
                           author_id=actor.id, details={"kind": f"{kind}_updated", "field": label, "old": old_value, "new": new_value})

    for label, attr, value in (("Title", "title", form.title), ("Description", "description", form.description),
                               ("Resolution", "resolution", form.resolution), ("Visibility", "visibility", form.visibility)):
        current = getattr(old, attr)
        if value != current:
            setattr(incident, attr, value if value or attr != "resolution" else None)
            await changed(label, current, value)
    for label, model, attr, old_name, new_name in (
            ("Type", IncidentType, "incident_type_id", old.incident_type, form.incident_type),
            ("Priority", IncidentPriority, "incident_priority_id", old.priority, form.priority),
            ("Severity", IncidentSeverity, "incident_severity_id", old.severity, form.severity)):
        if new_name != old_name:
            setattr(incident, attr, (await _named(session, model, incident.project_id, new_name)).id)
            await changed(label, old_name, new_name)
    if form.visibility == Visibility.RESTRICTED and old.visibility != Visibility.RESTRICTED:
        await _notify_insiders_only(session, incident, config, changed)
    if set(form.tags) != set(old.tags):
        tags_before, tags_after = await set_incident_tags(session, incident.id, form.tags)
        await changed("Tags", ", ".join(tags_before), ", ".join(tags_after))
    if form.status != old_status:
        await changed("Status", old_status, form.status)
        changes += await enter_status(session, incident, form.status, config, actor.id)
    incident.updated_at = utcnow()
    await session.commit()
    return UpdateResult(incident.id, changes, old_status, actor_user_id)
