"""Tags and tag types (section `tags:` of the warroom file).

A tag type groups tags (e.g. "Component": payments, search...). `exclusive`: an incident has at most
one tag of the type; `required`: an incident cannot be Closed without one. Tag types belong to a
project (the default project when `project` is unset). A tag may be added automatically
(discoverability) to the incidents of some incident types and to the cases some signal
definitions open.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from domain.config.base import StrictModel

# Slack's static selects offer at most 100 options; a bigger type is searched (external select).
STATIC_OPTIONS_MAX = 100


class TagConfig(StrictModel):
    """One tag of a tag type."""

    name: str = Field(min_length=1, max_length=75)
    description: str = ""
    incident_types: list[str] = Field(
        default_factory=list, description="incident types (of the tag type's project) whose incidents get this tag")
    signal_definitions: list[str] = Field(
        default_factory=list, description="signal definitions whose cases get this tag")


class TagTypeConfig(StrictModel):
    """A kind of tag, with its tags."""

    name: str = Field(min_length=1, max_length=75)
    description: str = ""
    project: str | None = Field(default=None, description="project of the tag type (default: the default project)")
    exclusive: bool = Field(default=False, description="at most one tag of this type per incident")
    required: bool = Field(default=False, description="an incident cannot be closed without a tag of this type")
    tags: list[TagConfig] = Field(default_factory=list)
    entity_types: list[str] = Field(
        default_factory=list, description="signal entity types whose values become tags of this type on the cases they reach")


class TagsConfig(StrictModel):
    """Tag types; none by default."""

    types: list[TagTypeConfig] = Field(default_factory=list)


def tag_reference_errors(config: Any) -> list[tuple[str, str]]:
    """(path, message) for every tag rule broken (config: a WarroomConfig): unknown projects, incident
    types and signal definitions, duplicate names, and an exclusive type adding two tags at once."""
    problems: list[tuple[str, str]] = []
    definitions = {d.name for d in config.signals.definitions}
    seen_types: dict[tuple[str, str], int] = {}
    for i, tag_type in enumerate(config.tags.types):
        path = f"tags.types[{i}]"
        project = config.project(tag_type.project) if tag_type.project else config.default_project()
        if project is None:
            problems.append((f"{path}.project", f"{tag_type.project!r} is not a configured project"))
        key = (project.name if project else "", tag_type.name.casefold())
        if key in seen_types:
            problems.append((f"{path}.name", f"duplicate tag type {tag_type.name!r} in project "
                                             f"{key[0]!r} (also at tags.types[{seen_types[key]}])"))
        seen_types.setdefault(key, i)
        known_entities = {e.name for e in config.signals.entity_types}
        problems += [(f"{path}.entity_types", f"{name!r} is not one of signals.entity_types")
                     for name in tag_type.entity_types if name not in known_entities]
        if tag_type.entity_types and tag_type.exclusive:
            problems.append((f"{path}.exclusive", "a tag type filled from entities cannot be exclusive "
                                                  "(an alert may carry several values)"))
        incident_types = {t.name.casefold() for t in project.incident_types} if project else set()
        seen_tags: dict[str, int] = {}
        auto_by_type: dict[str, str] = {}
        auto_by_definition: dict[str, str] = {}
        for j, tag in enumerate(tag_type.tags):
            tag_path = f"{path}.tags[{j}]"
            if tag.name.casefold() in seen_tags:
                problems.append((f"{tag_path}.name", f"duplicate tag {tag.name!r} (also at {path}.tags"
                                                     f"[{seen_tags[tag.name.casefold()]}])"))
            seen_tags.setdefault(tag.name.casefold(), j)
            for name in tag.incident_types:
                if project is not None and name.casefold() not in incident_types:
                    problems.append((f"{tag_path}.incident_types",
                                     f"{name!r} is not an incident type of project {project.name!r}"))
                elif tag_type.exclusive and name.casefold() in auto_by_type:
                    problems.append((f"{tag_path}.incident_types", f"{tag_type.name!r} is exclusive but "
                                     f"{auto_by_type[name.casefold()]!r} is also added to {name!r} incidents"))
                auto_by_type.setdefault(name.casefold(), tag.name)
            for name in tag.signal_definitions:
                if name not in definitions:
                    problems.append((f"{tag_path}.signal_definitions", f"{name!r} is not one of signals.definitions"))
                elif tag_type.exclusive and name in auto_by_definition:
                    problems.append((f"{tag_path}.signal_definitions", f"{tag_type.name!r} is exclusive but "
                                     f"{auto_by_definition[name]!r} is also added to {name!r} cases"))
                auto_by_definition.setdefault(name, tag.name)
    return problems
