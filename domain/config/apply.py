"""Write the config's projects and their incident types/priorities/severities to the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.incidents import IncidentPriorityConfig, IncidentSeverityConfig, IncidentTypeConfig, ProjectConfig
from domain.config.schema import WarroomConfig
from storage.models import IncidentPriority, IncidentSeverity, IncidentType, Project
from storage.tag_models import Tag, TagType

# Postgres advisory lock key held while applying, so replicas starting together take turns.
_APPLY_LOCK_KEY = 0x7761_7272  # "warr"


@dataclass
class ApplyReport:
    """What `apply_config` changed; `changes` has one line per row created, updated or disabled."""

    created: int = 0
    updated: int = 0
    disabled: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.disabled)

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, disabled {self.disabled}"


async def apply_config(session: AsyncSession, config: WarroomConfig) -> ApplyReport:
    """Upsert the configured projects and items by name; disable items no longer configured.

    Idempotent: a second call with the same config changes nothing. Items are matched by name
    ignoring case and never deleted (incidents refer to them); a project missing from the config
    loses its default flag and all its items are disabled. Flushes but does not commit: the
    caller owns the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPLY_LOCK_KEY})
    report = ApplyReport()
    existing = {p.name: p for p in (await session.execute(select(Project))).scalars()}

    for project_config in config.projects:
        project = existing.pop(project_config.name, None)
        values = {"description": project_config.description, "default": project_config.default}
        if project is None:
            project = Project(name=project_config.name, description=project_config.description,
                              default=project_config.default)
            session.add(project)
            await session.flush()
            report.created += 1
            report.changes.append(f"created project {project.name}")
        elif _assign(project, values):
            report.updated += 1
            report.changes.append(f"updated project {project.name}")
        await _sync_items(session, project, project_config, report)

    for project in existing.values():  # no longer configured
        if project.default:
            project.default = False
            report.updated += 1
            report.changes.append(f"updated project {project.name} (no longer configured)")
        await _sync_items(session, project, None, report)

    await session.flush()
    await _sync_tags(session, config, report)
    await session.flush()
    return report


# A project's item table; each is checked on its own by mypy (a constrained type variable).
_Item = TypeVar("_Item", IncidentType, IncidentPriority, IncidentSeverity)
_ItemConfig = IncidentTypeConfig | IncidentPriorityConfig | IncidentSeverityConfig


async def _sync_items(
    session: AsyncSession, project: Project, project_config: ProjectConfig | None, report: ApplyReport
) -> None:
    await _sync_kind(session, project, IncidentType, project_config.incident_types if project_config else [], report)
    await _sync_kind(session, project, IncidentPriority,
                     project_config.incident_priorities if project_config else [], report)
    await _sync_kind(session, project, IncidentSeverity,
                     project_config.incident_severities if project_config else [], report)


async def _sync_kind(
    session: AsyncSession, project: Project, model: type[_Item], configured: Sequence[_ItemConfig],
    report: ApplyReport,
) -> None:
    """Upsert `configured` (items of one kind, each with a `name`) into `model`'s rows of `project`;
    disable the rows no longer configured (and every row sharing a name with an earlier one)."""
    query = select(model).where(col(model.project_id) == project.id).order_by(col(model.id))
    rows: list[_Item] = list((await session.execute(query)).scalars())
    by_name: dict[str, _Item] = {}
    for row in rows:
        by_name.setdefault(row.name.casefold(), row)
    others: list[_Item] = [row for row in rows if by_name.get(row.name.casefold()) is not row]
    what = model.__tablename__

    for item in configured:
        values = item.model_dump() | {"enabled": True}
        name = item.name
        existing = by_name.pop(name.casefold(), None)
        if existing is None:
            session.add(model(project_id=project.id, **values))
            report.created += 1
            report.changes.append(f"created {what} {project.name}/{name}")
        elif _assign(existing, values):
            report.updated += 1
            report.changes.append(f"updated {what} {project.name}/{name}")

    for stale in [*by_name.values(), *others]:
        if _assign(stale, {"enabled": False, "default": False}):
            report.disabled += 1
            report.changes.append(f"disabled {what} {project.name}/{stale.name}")


async def _sync_tags(session: AsyncSession, config: WarroomConfig, report: ApplyReport) -> None:
    """Upsert tag types and their tags by name (per project); disable those no longer configured.

    A new tag adopts the legacy (free-text, migrated) tag of the same name in its project, so the
    incidents carrying it keep it, now typed."""
    default = config.default_project().name
    for project in (await session.execute(select(Project).order_by(col(Project.id)))).scalars():
        configured = [t for t in config.tags.types if (t.project or default) == project.name]
        types: list[TagType] = list((await session.execute(
            select(TagType).where(col(TagType.project_id) == project.id).order_by(col(TagType.id)))).scalars())
        by_name = {t.name.casefold(): t for t in reversed(types)}
        legacy = {t.name.casefold(): t for t in (await session.execute(select(Tag).where(
            col(Tag.project_id) == project.id, col(Tag.tag_type_id).is_(None)).order_by(col(Tag.id).desc()))).scalars()}
        kept: set[int] = set()
        for type_config in configured:
            values: dict[str, Any] = {"name": type_config.name, "description": type_config.description,
                      "exclusive": type_config.exclusive, "required": type_config.required, "enabled": True}
            tag_type = by_name.pop(type_config.name.casefold(), None)
            where = f"{project.name}/{type_config.name}"
            if tag_type is None:
                tag_type = TagType(project_id=project.id, **values)
                session.add(tag_type)
                await session.flush()
                report.created += 1
                report.changes.append(f"created tag_type {where}")
            elif _assign(tag_type, values):
                report.updated += 1
                report.changes.append(f"updated tag_type {where}")
            kept.add(tag_type.id)
            await _sync_type_tags(session, project, tag_type, type_config.tags, legacy, report,
                                  keep_unlisted=bool(type_config.entity_types))
        for tag_type in types:
            if tag_type.id in kept:
                continue
            if _assign(tag_type, {"enabled": False}):
                report.disabled += 1
                report.changes.append(f"disabled tag_type {project.name}/{tag_type.name}")
            await _sync_type_tags(session, project, tag_type, [], legacy, report)


async def _sync_type_tags(session: AsyncSession, project: Project, tag_type: TagType, configured: Sequence[Any],
                          legacy: dict[str, Tag], report: ApplyReport, *, keep_unlisted: bool = False) -> None:
    """Upsert the type's configured tags; disable the others, except (`keep_unlisted`) in a type filled from
    signal entities, whose tags are made as values turn up."""
    rows = list((await session.execute(
        select(Tag).where(col(Tag.tag_type_id) == tag_type.id).order_by(col(Tag.id)))).scalars())
    by_name = {t.name.casefold(): t for t in reversed(rows)}
    kept: set[int] = set()
    for tag_config in configured:
        values: dict[str, Any] = {"name": tag_config.name, "description": tag_config.description, "enabled": True}
        where = f"{project.name}/{tag_type.name}/{tag_config.name}"
        tag = by_name.pop(tag_config.name.casefold(), None)
        if tag is None:
            tag = legacy.pop(tag_config.name.casefold(), None)
            if tag is not None:
                _assign(tag, values | {"tag_type_id": tag_type.id, "legacy": False})
                report.updated += 1
                report.changes.append(f"adopted legacy tag {where}")
            else:
                tag = Tag(project_id=project.id, tag_type_id=tag_type.id, **values)
                session.add(tag)
                report.created += 1
                report.changes.append(f"created tag {where}")
            await session.flush()
        elif _assign(tag, values):
            report.updated += 1
            report.changes.append(f"updated tag {where}")
        kept.add(tag.id)
    for tag in rows:
        if keep_unlisted:
            break
        if tag.id not in kept and _assign(tag, {"enabled": False}):
            report.disabled += 1
            report.changes.append(f"disabled tag {project.name}/{tag_type.name}/{tag.name}")


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes of `row` that differ from `values`; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
