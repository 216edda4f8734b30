"""Tags of incidents: what the forms offer, validation (exclusive, required to close), storing, searching.

Forms carry tag ids. Tags of a type are grouped under the block `tag_block(type id)`; legacy tags
(free text from before tag types) under `LEGACY_BLOCK`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.schema import WarroomConfig
from domain.config.tags import STATIC_OPTIONS_MAX
from storage.models import Incident, Project
from storage.tag_models import CaseTag, IncidentTag, Tag, TagType
from storage.upsert import upsert_insert

LEGACY_BLOCK = "legacy_tags"
_BLOCK_PREFIX = "tag_type_"
SEARCH_LIMIT = 100


def tag_block(tag_type_id: int) -> str:
    """Block id (and action id) of a tag type's select in the report and update forms."""
    return f"{_BLOCK_PREFIX}{tag_type_id}"


def tag_type_of_block(block_id: str) -> int | None:
    rest = block_id.removeprefix(_BLOCK_PREFIX)
    return int(rest) if rest != block_id and rest.isdigit() else None


@dataclass(frozen=True)
class TagChoice:
    id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class TagTypeChoice:
    """A tag type as offered by a form; `searchable` (more tags than a static select holds): `tags` is
    empty and the form searches them (external select)."""

    id: int
    name: str
    description: str
    exclusive: bool
    required: bool
    tags: list[TagChoice]
    searchable: bool = False


@dataclass(frozen=True)
class IncidentTagView:
    """A tag on an incident: its type's name (None for a legacy tag)."""

    id: int
    name: str
    type_name: str | None
    tag_type_id: int | None

    @property
    def label(self) -> str:
        return f"{self.type_name}: {self.name}" if self.type_name else self.name


async def tag_type_choices(session: AsyncSession, project_id: int) -> list[TagTypeChoice]:
    """The enabled tag types of a project with their enabled tags (none listed for a searchable type)."""
    types = list((await session.execute(select(TagType).where(
        col(TagType.project_id) == project_id, col(TagType.enabled)).order_by(col(TagType.id)))).scalars())
    if not types:
        return []
    counts = dict((await session.execute(
        select(col(Tag.tag_type_id), func.count()).where(col(Tag.tag_type_id).in_([t.id for t in types]), col(Tag.enabled))
        .group_by(col(Tag.tag_type_id)))).all())
    small = [t.id for t in types if counts.get(t.id, 0) <= STATIC_OPTIONS_MAX]
    tags: dict[int, list[TagChoice]] = {}
    for tag in (await session.execute(select(Tag).where(col(Tag.tag_type_id).in_(small), col(Tag.enabled))
                                      .order_by(col(Tag.name)))).scalars():
        tags.setdefault(tag.tag_type_id or 0, []).append(TagChoice(tag.id, tag.name, tag.description))
    return [TagTypeChoice(t.id, t.name, t.description, t.exclusive, t.required, tags.get(t.id, []),
                          searchable=t.id not in small)
            for t in types if counts.get(t.id, 0)]


async def search_tags(session: AsyncSession, tag_type_id: int, query: str, limit: int = SEARCH_LIMIT) -> list[TagChoice]:
    """Enabled tags of a type whose name contains `query` (any case), those starting with it first."""
    needle = query.strip().casefold()
    rows = (await session.execute(select(Tag).where(
        col(Tag.tag_type_id) == tag_type_id, col(Tag.enabled), func.lower(col(Tag.name)).contains(needle, autoescape=True))
        .order_by(col(Tag.name)).limit(limit * 4))).scalars()
    found = sorted(rows, key=lambda t: (not t.name.casefold().startswith(needle), t.name.casefold()))
    return [TagChoice(t.id, t.name, t.description) for t in found[:limit]]


async def incident_tags(session: AsyncSession, incident_id: int) -> list[IncidentTagView]:
    """The incident's tags, typed ones first (by type, then name), then legacy ones."""
    rows = (await session.execute(
        select(Tag, col(TagType.name)).join(IncidentTag, col(IncidentTag.tag_id) == col(Tag.id))
        .outerjoin(TagType, col(TagType.id) == col(Tag.tag_type_id))
        .where(col(IncidentTag.incident_id) == incident_id))).all()
    views = [IncidentTagView(tag.id, tag.name, type_name, tag.tag_type_id) for tag, type_name in rows]
    return sorted(views, key=lambda v: (v.type_name is None, (v.type_name or "").casefold(), v.name.casefold()))


async def incident_tag_names(session: AsyncSession, incident_id: int) -> list[str]:
    return [t.name for t in await incident_tags(session, incident_id)]


async def tags_of_incidents(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, list[str]]:
    """Tag names per incident id (one query)."""
    out: dict[int, list[str]] = {}
    if not incident_ids:
        return out
    for incident_id, name in (await session.execute(
            select(col(IncidentTag.incident_id), col(Tag.name)).join(Tag, col(Tag.id) == col(IncidentTag.tag_id))
            .where(col(IncidentTag.incident_id).in_(list(incident_ids))).order_by(col(Tag.name)))):
        out.setdefault(incident_id, []).append(name)
    return out


def incidents_tagged(name: str) -> ColumnElement[bool]:
    """WHERE clause: incidents carrying a tag called `name` (any case, any type)."""
    return col(Incident.id).in_(
        select(col(IncidentTag.incident_id)).join(Tag, col(Tag.id) == col(IncidentTag.tag_id))
        .where(func.lower(col(Tag.name)) == name.strip().casefold()))


async def tag_errors(session: AsyncSession, project_id: int, tag_ids: Iterable[int], *, closing: bool,
                     kept_legacy: Iterable[int] = ()) -> dict[str, str]:
    """Errors (by form block id) of a set of tags for an incident of `project_id`: unknown or disabled tags,
    two tags of an exclusive type, and (`closing`) a required type without a tag. Legacy tags the incident
    already has (`kept_legacy`) are allowed."""
    ids = set(tag_ids)
    legacy_ok = set(kept_legacy)
    errors: dict[str, str] = {}
    tags = {t.id: t for t in (await session.execute(select(Tag).where(col(Tag.id).in_(ids)))).scalars()} if ids else {}
    types = {t.id: t for t in (await session.execute(select(TagType).where(
        col(TagType.project_id) == project_id))).scalars()}
    per_type: dict[int, list[Tag]] = {}
    for tag_id in ids:
        tag = tags.get(tag_id)
        if tag is not None and tag.tag_type_id is None and tag.id in legacy_ok:
            continue
        tag_type = types.get(tag.tag_type_id or 0) if tag is not None else None
        if tag is None or tag_type is None or not tag.enabled or not tag_type.enabled:
            block = tag_block(tag.tag_type_id) if tag is not None and tag.tag_type_id else LEGACY_BLOCK
            errors[block] = f"{tag.name if tag else 'A tag'} is no longer offered; pick another."
            continue
        per_type.setdefault(tag_type.id, []).append(tag)
    for type_id, picked in per_type.items():
        if types[type_id].exclusive and len(picked) > 1:
            errors.setdefault(tag_block(type_id), f"{types[type_id].name} takes one tag only "
                                                  f"({', '.join(sorted(t.name for t in picked))} picked).")
    if closing:
        for tag_type in types.values():
            if tag_type.enabled and tag_type.required and tag_type.id not in per_type:
                errors.setdefault(tag_block(tag_type.id), f"Closing needs a {tag_type.name} tag.")
    return errors


async def set_incident_tags(session: AsyncSession, incident_id: int, tag_ids: Iterable[int]) -> tuple[list[str], list[str]]:
    """Make the incident's tags exactly `tag_ids`: (names before, names after); flushes."""
    before = await incident_tags(session, incident_id)
    wanted = list(dict.fromkeys(tag_ids))
    have = {t.id for t in before}
    for link in (await session.execute(select(IncidentTag).where(
            col(IncidentTag.incident_id) == incident_id, col(IncidentTag.tag_id).notin_(wanted)))).scalars():
        await session.delete(link)
    for tag_id in wanted:
        if tag_id not in have:
            session.add(IncidentTag(incident_id=incident_id, tag_id=tag_id))
    await session.flush()
    after = await incident_tags(session, incident_id)
    return [t.label for t in before], [t.label for t in after]


async def automatic_tag_ids(session: AsyncSession, config: WarroomConfig, project_id: int, project_name: str,
                            incident_type: str) -> list[int]:
    """Tags the config adds to incidents of `incident_type` in the project (discoverability)."""
    default = config.default_project().name
    wanted: list[tuple[str, str]] = [
        (tag_type.name.casefold(), tag.name.casefold())
        for tag_type in config.tags.types if (tag_type.project or default) == project_name
        for tag in tag_type.tags if incident_type.casefold() in {n.casefold() for n in tag.incident_types}]
    if not wanted:
        return []
    rows = (await session.execute(select(col(Tag.id), col(TagType.name), col(Tag.name)).join(TagType, col(TagType.id) == col(Tag.tag_type_id))
                                  .where(col(TagType.project_id) == project_id, col(Tag.enabled), col(TagType.enabled))))
    return [tag_id for tag_id, type_name, name in rows if (type_name.casefold(), name.casefold()) in wanted]


async def tag_new_incident(session: AsyncSession, config: WarroomConfig, incident: Incident, tag_ids: Iterable[int], *,
                           project_name: str, incident_type: str) -> None:
    """Tag a new incident (of `incident_type` in the project called `project_name`) with what its reporter picked (tags no longer offered
    are dropped rather than lose the report) and the config's automatic tags for its type (unless the reporter
    picked a tag of that exclusive type); flushes."""
    picked = set(tag_ids)
    auto = await automatic_tag_ids(session, config, incident.project_id, project_name, incident_type)
    wanted = picked | set(auto)
    if not wanted:
        return
    rows = (await session.execute(select(Tag, TagType).join(TagType, col(TagType.id) == col(Tag.tag_type_id)).where(
        col(Tag.id).in_(wanted), col(TagType.project_id) == incident.project_id, col(Tag.enabled),
        col(TagType.enabled)))).all()
    kept = [tag.id for tag, _ in rows if tag.id in picked]
    typed = {tag_type.id for tag, tag_type in rows if tag.id in picked and tag_type.exclusive}
    kept += [tag.id for tag, tag_type in rows if tag.id not in picked and tag_type.id not in typed]
    await set_incident_tags(session, incident.id, sorted(kept))


async def report_tag_errors(session: AsyncSession, project_name: str, tag_ids: Iterable[int], *, closing: bool) -> dict[str, str]:
    """`tag_errors` of a report form for the named project (none when the project is gone: the report
    falls back to defaults). No tags and not closing: nothing to refuse, so nothing is read (it runs before the
    report's ack)."""
    tag_ids = list(tag_ids)
    if not tag_ids and not closing:
        return {}
    project_id = (await session.execute(select(col(Project.id)).where(col(Project.name) == project_name))).scalar()
    if project_id is None:
        return {}
    return await tag_errors(session, project_id, tag_ids, closing=closing)


def list_filters(text: str) -> tuple[str | None, str | None]:
    """(project, tag) of the list-incidents command text: `[project] [tag:name]` (the tag name runs to the end)."""
    lowered = text.casefold()
    at = lowered.find("tag:")
    if at == -1 or (at > 0 and not text[at - 1].isspace()):
        return text.strip() or None, None
    return text[:at].strip() or None, text[at + 4:].strip() or None


async def cases_tag_labels(session: AsyncSession, case_ids: list[int]) -> dict[int, list[str]]:
    """Each case's tags as "Type: tag" (or "tag" for a legacy one), sorted; cases without tags are absent."""
    labels: dict[int, list[str]] = {}
    if not case_ids:
        return labels
    for case_id, type_name, name in await session.execute(
            select(col(CaseTag.case_id), col(TagType.name), col(Tag.name)).join(CaseTag, col(CaseTag.tag_id) == col(Tag.id))
            .outerjoin(TagType, col(TagType.id) == col(Tag.tag_type_id)).where(col(CaseTag.case_id).in_(case_ids))):
        labels.setdefault(case_id, []).append(f"{type_name}: {name}" if type_name else name)
    return {case_id: sorted(found, key=str.casefold) for case_id, found in labels.items()}


async def tag_signal_case(session: AsyncSession, config: WarroomConfig, case_id: int, definition: str) -> None:
    """Tag a case opened by signal definition `definition` with the config's tags for it; flushes."""
    default = config.default_project().name
    wanted = {((tag_type.project or default), tag_type.name.casefold(), tag.name.casefold())
              for tag_type in config.tags.types for tag in tag_type.tags if definition in tag.signal_definitions}
    if not wanted:
        return
    rows = (await session.execute(
        select(col(Tag.id), col(Project.name), col(TagType.name), col(Tag.name))
        .join(TagType, col(TagType.id) == col(Tag.tag_type_id)).join(Project, col(Project.id) == col(TagType.project_id))
        .where(col(Tag.enabled), col(TagType.enabled))))
    have = set((await session.execute(select(col(CaseTag.tag_id)).where(col(CaseTag.case_id) == case_id))).scalars())
    for tag_id, project, type_name, name in rows:
        if (project, type_name.casefold(), name.casefold()) in wanted and tag_id not in have:
            session.add(CaseTag(case_id=case_id, tag_id=tag_id))
    await session.flush()


async def tag_case_entities(session: AsyncSession, config: WarroomConfig, case_id: int,
                            entities: Iterable[tuple[str, str]]) -> int:
    """Tag a case with the values of its signals' entities, for tag types that list their entity types
    (`entity_types`): a value seen for the first time becomes a tag of the type. Returns how many tags the
    case gained; flushes."""
    default = config.default_project().name
    wanted = {((tag_type.project or default), tag_type.name.casefold(), value.strip()[:75])
              for tag_type in config.tags.types for entity_type, value in entities
              if entity_type in tag_type.entity_types and value.strip()}
    if not wanted:
        return 0
    types = {(project, name.casefold()): (type_id, project_id) for type_id, project_id, project, name in (await session.execute(
        select(col(TagType.id), col(TagType.project_id), col(Project.name), col(TagType.name))
        .join(Project, col(Project.id) == col(TagType.project_id)).where(col(TagType.enabled)))).all()}
    added = 0
    for project, type_name, value in sorted(wanted):
        found = types.get((project, type_name))
        if found is None:
            continue
        type_id, project_id = found
        await session.execute(upsert_insert(session, Tag).values(
            project_id=project_id, tag_type_id=type_id, name=value, description="from signal entities",
            legacy=False, enabled=True).on_conflict_do_nothing(index_elements=["tag_type_id", "name"]))
        tag_id = (await session.execute(select(col(Tag.id)).where(
            col(Tag.tag_type_id) == type_id, col(Tag.name) == value))).scalar_one()
        result = await session.execute(upsert_insert(session, CaseTag).values(case_id=case_id, tag_id=tag_id)
                                       .on_conflict_do_nothing(index_elements=["case_id", "tag_id"]))
        added += getattr(result, "rowcount", 0) or 0
    await session.flush()
    return added
