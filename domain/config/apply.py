"""Write the config's projects and their incident types/priorities/severities to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.config.incidents import ProjectConfig
from domain.config.schema import WarroomConfig
from storage.models import IncidentPriority, IncidentSeverity, IncidentType, Project

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
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPLY_LOCK_KEY})
    report = ApplyReport()
    existing = {p.name: p for p in (await session.execute(select(Project))).scalars()}

    for project_config in config.projects:
        project = existing.pop(project_config.name, None)
        values = {"description": project_config.description, "default": project_config.default}
        if project is None:
            project = Project(name=project_config.name, **values)
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
    return report


_ITEMS: tuple[tuple[type[SQLModel], str], ...] = (
    (IncidentType, "incident_types"),
    (IncidentPriority, "incident_priorities"),
    (IncidentSeverity, "incident_severities"),
)


async def _sync_items(
    session: AsyncSession, project: Project, project_config: ProjectConfig | None, report: ApplyReport
) -> None:
    for model, key in _ITEMS:
        query = select(model).where(model.project_id == project.id).order_by(model.id)
        rows = list((await session.execute(query)).scalars())
        by_name: dict[str, Any] = {}
        for row in rows:
            by_name.setdefault(row.name.casefold(), row)
        others = [row for row in rows if by_name.get(row.name.casefold()) is not row]
        what = model.__tablename__

        for item in getattr(project_config, key) if project_config else []:
            values = item.model_dump() | {"enabled": True}
            row = by_name.pop(item.name.casefold(), None)
            if row is None:
                session.add(model(project_id=project.id, **values))
                report.created += 1
                report.changes.append(f"created {what} {project.name}/{item.name}")
            elif _assign(row, values):
                report.updated += 1
                report.changes.append(f"updated {what} {project.name}/{item.name}")

        for row in [*by_name.values(), *others]:
            if _assign(row, {"enabled": False, "default": False}):
                report.disabled += 1
                report.changes.append(f"disabled {what} {project.name}/{row.name}")


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes of `row` that differ from `values`; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
