"""Applying the config to the database: idempotent upserts, removed items disabled not deleted."""

from sqlalchemy import func, select

from domain.config.apply import apply_config
from domain.config.loader import load_config
from domain.config.schema import WarroomConfig
from storage.models import IncidentPriority, IncidentSeverity, IncidentType, Project


async def _apply(session_factory, config: WarroomConfig):
    async with session_factory() as session:
        report = await apply_config(session, config)
        await session.commit()
    return report


async def _rows(session_factory, model):
    async with session_factory() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


def _without(config: WarroomConfig, priority: str) -> WarroomConfig:
    config = config.model_copy(deep=True)
    project = config.projects[0]
    project.incident_priorities = [p for p in project.incident_priorities if p.name != priority]
    return config


async def test_first_apply_creates_everything(session_factory):
    report = await _apply(session_factory, load_config(None))
    assert (report.created, report.updated, report.disabled) == (1 + 3 + 4 + 4, 0, 0)
    [project] = await _rows(session_factory, Project)
    assert project.name == "default" and project.default
    priorities = await _rows(session_factory, IncidentPriority)
    assert [(p.name, p.view_order, p.default, p.enabled) for p in priorities] == [
        ("Low", 1, True, True), ("Medium", 2, False, True), ("High", 3, False, True), ("Critical", 4, False, True),
    ]
    high = priorities[2]
    assert (high.tactical_report_reminder_hours, high.executive_report_reminder_hours, high.page_commander) == (4, 12, True)
    severities = await _rows(session_factory, IncidentSeverity)
    assert not severities[0].allowed_for_stable
    types = await _rows(session_factory, IncidentType)
    assert {t.name: t.visibility for t in types}["Security"] == "Restricted"


async def test_applying_twice_changes_nothing(session_factory):
    await _apply(session_factory, load_config(None))
    report = await _apply(session_factory, load_config(None))
    assert (report.created, report.updated, report.disabled) == (0, 0, 0)
    assert not report.changed and report.changes == []


async def test_removed_item_is_disabled_not_deleted_and_comes_back(session_factory):
    config = load_config(None)
    await _apply(session_factory, config)

    report = await _apply(session_factory, _without(config, "Medium"))
    assert (report.created, report.updated, report.disabled) == (0, 0, 1)
    assert report.changes == ["disabled incident_priority default/Medium"]
    medium = next(p for p in await _rows(session_factory, IncidentPriority) if p.name == "Medium")
    assert not medium.enabled
    assert len(await _rows(session_factory, IncidentPriority)) == 4
    assert (await _apply(session_factory, _without(config, "Medium"))).changed is False

    report = await _apply(session_factory, config)
    assert (report.created, report.updated, report.disabled) == (0, 1, 0)
    assert all(p.enabled for p in await _rows(session_factory, IncidentPriority))


async def test_changed_values_and_name_case_update_in_place(session_factory):
    config = load_config(None)
    await _apply(session_factory, config)
    changed = config.model_copy(deep=True)
    low, medium = changed.projects[0].incident_priorities[:2]
    low.default, medium.default = False, True
    medium.name = "MEDIUM"
    medium.tactical_report_reminder_hours = 6
    report = await _apply(session_factory, changed)
    assert (report.created, report.updated, report.disabled) == (0, 2, 0)
    priorities = {p.name: p for p in await _rows(session_factory, IncidentPriority)}
    assert set(priorities) == {"Low", "MEDIUM", "High", "Critical"}
    assert priorities["MEDIUM"].default and priorities["MEDIUM"].tactical_report_reminder_hours == 6
    assert not priorities["Low"].default


async def test_project_dropped_from_config_keeps_rows_but_is_disabled(session_factory):
    config = load_config(None)
    await _apply(session_factory, config)
    renamed = config.model_copy(deep=True)
    renamed.projects[0].name = "main"
    report = await _apply(session_factory, renamed)
    assert report.created == 1 + 11 and report.disabled == 11 and report.updated == 1
    projects = {p.name: p for p in await _rows(session_factory, Project)}
    assert projects["main"].default and not projects["default"].default
    async with session_factory() as session:
        enabled_old = await session.scalar(
            select(func.count()).select_from(IncidentType).where(
                IncidentType.project_id == projects["default"].id, IncidentType.enabled
            )
        )
    assert enabled_old == 0
