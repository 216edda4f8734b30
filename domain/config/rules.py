"""Rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.config.base import SLACK_USER_ID, ConfigError
from domain.config.costs import CLASSIC_MODEL
from domain.config.google import google_reference_errors
from domain.config.incidents import IncidentPriorityConfig, IncidentSeverityConfig, IncidentTypeConfig
from domain.config.schema import CommandsConfig
from domain.config.tags import tag_reference_errors
from domain.config.workflows import workflow_reference_errors
from domain.core.vocabulary import Role


def _duplicates(prefix: str, items: list[Any]) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        key = item.name.casefold()
        if key in seen:
            out.append((f"{prefix}[{i}].name", f"duplicate name {item.name!r} (also at {prefix}[{seen[key]}])"))
        seen.setdefault(key, i)
    return out


def reference_errors(config: Any) -> list[tuple[str, str]]:
    """(path, message) for every name in `cases:`/`signals:` that refers to nothing (config: a WarroomConfig)."""
    cases, signals = config.cases, config.signals
    problems: list[tuple[str, str]] = []
    for label in ("sources", "entity_types", "definitions", "filters"):
        problems += _duplicates(f"signals.{label}", getattr(signals, label))
    entity_names = {e.name for e in signals.entity_types}
    definition_names = {d.name for d in signals.definitions}
    types = {t.name.casefold() for t in cases.types}
    priorities = {p.name.casefold() for p in cases.priorities}
    for i, d in enumerate(signals.definitions):
        path = f"signals.definitions[{i}]"
        problems += [(f"{path}.entity_types", f"{e!r} is not one of signals.entity_types")
                     for e in d.entity_types if e not in entity_names]
        if d.case_type and d.case_type.casefold() not in types:
            problems.append((f"{path}.case_type", f"{d.case_type!r} is not one of cases.types"))
        if d.case_priority and d.case_priority.casefold() not in priorities:
            problems.append((f"{path}.case_priority", f"{d.case_priority!r} is not one of cases.priorities"))
    for i, f in enumerate(signals.filters):
        path = f"signals.filters[{i}]"
        problems += [(f"{path}.entity_types", f"{e!r} is not one of signals.entity_types")
                     for e in f.entity_types + [m.type for m in f.entities] if e not in entity_names]
        problems += [(f"{path}.definitions", f"{d!r} is not one of signals.definitions")
                     for d in f.definitions if d not in definition_names]
    for i, s in enumerate(signals.sources):
        problems += [(f"signals.sources[{i}].definitions", f"{d!r} is not one of signals.definitions")
                     for d in s.definitions if d not in definition_names]
    for i, t in enumerate(cases.types if config.projects else []):
        project = config.project(t.project) if t.project else config.default_project()
        if project is None:
            problems.append((f"cases.types[{i}].project", f"{t.project!r} is not a configured project"))
        elif t.incident_type and not any(x.name.casefold() == t.incident_type.casefold() for x in project.incident_types):
            problems.append((f"cases.types[{i}].incident_type",
                             f"{t.incident_type!r} is not an incident type of project {project.name!r}"))
    problems += _ticket_reference_errors(config) + incident_filter_errors(config)
    problems += _ai_reference_errors(config)
    return (problems + cost_reference_errors(config) + tag_reference_errors(config)
            + workflow_reference_errors(config) + google_reference_errors(config))


def cost_reference_errors(config: Any) -> list[tuple[str, str]]:
    """(path, message) for every name in `costs:` that refers to nothing (config: a WarroomConfig)."""
    costs = config.costs
    problems = _duplicates("costs.models", costs.models) + _duplicates("costs.custom_types", costs.custom_types)
    problems += [(f"costs.models[{i}].name", f"{CLASSIC_MODEL!r} is the built-in model; pick another name")
                 for i, m in enumerate(costs.models) if m.name == CLASSIC_MODEL]
    for i, m in enumerate(costs.models):
        kinds = [a.activity for a in m.activities]
        problems += [(f"costs.models[{i}].activities", f"{k!r} is listed twice") for k in sorted(set(kinds))
                     if kinds.count(k) > 1]
    models = {m.name for m in costs.models} | {CLASSIC_MODEL}
    project_names = {p.name for p in config.projects}
    seen: set[str] = set()
    for i, p in enumerate(costs.projects):
        if p.project not in project_names:
            problems.append((f"costs.projects[{i}].project", f"{p.project!r} is not a configured project"))
        if p.project in seen:
            problems.append((f"costs.projects[{i}].project", f"{p.project!r} is listed twice"))
        seen.add(p.project)
    incident_types = {t.name.casefold() for p in config.projects for t in p.incident_types}
    case_types = {t.name.casefold() for t in config.cases.types}
    for key, known, what in (("incident_types", incident_types, "an incident type of any project"),
                             ("case_types", case_types, "one of cases.types")):
        for type_name, model in getattr(costs, key).items():
            if type_name.casefold() not in known:
                problems.append((f"costs.{key}.{type_name}", f"{type_name!r} is not {what}"))
            if model not in models:
                problems.append((f"costs.{key}.{type_name}", f"{model!r} is not one of costs.models (nor classic)"))
    return problems


def incident_filter_errors(config: Any) -> list[tuple[str, str]]:
    """`notification_channels[]` and `engagement.*[]` filter incidents by type and priority names: each must
    be a type or priority of some project (they are matched ignoring case)."""
    types = {t.name.casefold() for p in config.projects for t in p.incident_types}
    priorities = {x.name.casefold() for p in config.projects for x in p.incident_priorities}
    entries = [(f"notification_channels[{i}]", c) for i, c in enumerate(config.notification_channels)]
    for kind in ("individuals", "teams", "services"):
        entries += [(f"engagement.{kind}[{i}]", rule) for i, rule in enumerate(getattr(config.engagement, kind))]
    problems = []
    for path, entry in entries:
        problems += [(f"{path}.incident_types", f"{name!r} is not an incident type of any project")
                     for name in entry.incident_types if name.casefold() not in types]
        problems += [(f"{path}.priorities", f"{name!r} is not an incident priority of any project")
                     for name in entry.priorities if name.casefold() not in priorities]
    return problems


def _ticket_reference_errors(config: Any) -> list[tuple[str, str]]:
    """`tickets.priorities` maps incident (and case) priorities: each key must be one; a case type asking for
    tickets needs the `tickets:` section."""
    if config.tickets is None:
        return [(f"cases.types[{i}].ticket", "needs a tickets: section (the Jira server, account and project)")
                for i, t in enumerate(config.cases.types) if t.ticket]
    known = {p.name.casefold() for project in config.projects for p in project.incident_priorities}
    known |= {p.name.casefold() for p in config.cases.priorities if any(t.ticket for t in config.cases.types)}
    return [(f"tickets.priorities.{name}", f"{name!r} is not an incident priority of any project"
             + (" nor a case priority" if any(t.ticket for t in config.cases.types) else ""))
            for name in config.tickets.priorities if name.casefold() not in known]


def _ai_reference_errors(config: Any) -> list[tuple[str, str]]:
    """`ai.projects` names projects."""
    if config.ai is None:
        return []
    known = {p.name for p in config.projects}
    return [(f"ai.projects[{i}]", f"{name!r} is not a project") for i, name in enumerate(config.ai.projects)
            if name not in known]


def config_warnings(config: Any) -> list[str]:
    """Legal but probably unintended settings (config: a WarroomConfig): shown by `config validate`, logged at start."""
    warnings = []
    for i, d in enumerate(config.signals.definitions):
        ctype = config.cases.type(d.case_type)
        if d.enabled and d.create_case and not (d.conversation_target or ctype.conversation_target):
            warnings.append(f"signals.definitions[{i}] ({d.name}): its cases have no channel (set conversation_target "
                            f"on it or on case type {ctype.name!r}); unless a sender names one, nobody will see them")
        if d.conversation_target and ctype.visibility == "Restricted" and d.conversation_target != ctype.conversation_target:
            warnings.append(f"signals.definitions[{i}] ({d.name}): conversation_target is ignored: case type "
                            f"{ctype.name!r} is Restricted, so its cards go only to its own conversation_target")
    if config.signals.definitions and not config.signals.sources:
        warnings.append("signals: definitions but no sources, so every POST is refused (401)")
    for i, s in enumerate(config.signals.sources):
        if s.auth == "hmac" and s.signing == "body":
            warnings.append(f"signals.sources[{i}] ({s.name}): signing: body signs the body alone, so a captured "
                            "request can be replayed (an alert without raw.id is stored again each time); move the "
                            "sender to timestamped signing (README, Signals) and drop this setting")
    scheduled = {name.casefold() for name in config.oncall.schedules}
    for i, service in enumerate(config.engagement.services):
        if service.name.casefold() not in scheduled:
            warnings.append(f"engagement.services[{i}] ({service.name}): no on-call schedule (oncall.schedules."
                            f"{service.name}), so matching incidents engage nobody")
    for i, ctype in enumerate(config.cases.types):
        if ctype.oncall_service and ctype.oncall_service.casefold() not in scheduled:
            warnings.append(f"cases.types[{i}] ({ctype.name}): oncall_service {ctype.oncall_service!r} has no on-call "
                            "schedule (oncall.schedules), so its cases get no default assignee")
    if config.tickets is not None and not config.tickets.priorities:
        warnings.append("tickets: no priorities mapping, so tickets are created without a priority")
    paging = [f"{p.name}/{pr.name}" for p in config.projects for pr in p.incident_priorities if pr.page_commander]
    if config.pagerduty is not None and paging and not config.pagerduty.commander_service:
        warnings.append(f"pagerduty: no commander_service, so the priorities with page_commander ({', '.join(paging)}) "
                        "cannot page commanders (each page is recorded as failed)")
    return warnings


def semantic_errors(data: dict[str, Any]) -> list[ConfigError]:
    """Rules across values, checked on the raw data so they are reported even next to schema
    errors (values of the wrong type are skipped here: the schema check reports them)."""
    errors: list[ConfigError] = []
    raw_projects = data.get("projects")
    if isinstance(raw_projects, list):
        if not raw_projects:
            errors.append(ConfigError("projects", "at least one project is required"))
        projects = [(i, p) for i, p in enumerate(raw_projects) if isinstance(p, dict)]
        names = ((f"projects[{i}].name", p["name"]) for i, p in projects if isinstance(p.get("name"), str))
        errors += _unique(names, "project name")
        defaults = [i for i, p in projects if _is_true(p.get("default"))]
        if len(raw_projects) > 1 and len(defaults) != 1:
            found = ", ".join(f"projects[{i}]" for i in defaults) or "none"
            errors.append(ConfigError("projects", f"exactly one project must have default: true (found: {found})"))
        for i, project in projects:
            errors += _check_project(project, f"projects[{i}]")
    oncall = data.get("oncall")
    if isinstance(oncall, dict) and isinstance(oncall.get("schedules"), dict):
        for service, users in oncall["schedules"].items():
            if isinstance(users, list):
                errors += [ConfigError(f"oncall.schedules.{service}[{i}]", "not a Slack user id (like U012AB3CD)")
                           for i, u in enumerate(users) if not (isinstance(u, str) and SLACK_USER_ID.match(u))]
    roles = data.get("roles")
    if isinstance(roles, list):
        errors += _check_roles([r for r in roles if isinstance(r, str)])
    commands = data.get("commands")
    if isinstance(commands, dict):
        given = {k: v for k, v in commands.items() if isinstance(v, str)}
        # Defaults first, so a clash is reported at the name the file sets.
        merged = {k: v for k, v in CommandsConfig().model_dump().items() if k not in given} | given
        errors += _unique(((f"commands.{k}", v) for k, v in merged.items()), "command name")
    return errors


_ITEM_LISTS = (
    ("incident_types", "type", IncidentTypeConfig),
    ("incident_priorities", "priority", IncidentPriorityConfig),
    ("incident_severities", "severity", IncidentSeverityConfig),
)


def _check_project(project: dict[str, Any], path: str) -> list[ConfigError]:
    errors: list[ConfigError] = []
    stable, priorities = project.get("stable_priority"), project.get("incident_priorities")
    if isinstance(stable, str) and isinstance(priorities, list):
        priority_names = {p["name"].strip().casefold() for p in priorities
                          if isinstance(p, dict) and isinstance(p.get("name"), str)}
        if stable.strip().casefold() not in priority_names:
            errors.append(ConfigError(f"{path}.stable_priority", f"{stable!r} is not one of this project's incident_priorities"))
    for key, label, _model in _ITEM_LISTS:
        items = project.get(key)
        if not isinstance(items, list):
            continue  # missing or wrong type: a schema error
        if not items:
            errors.append(ConfigError(f"{path}.{key}", f"at least one incident {label} is required"))
            continue
        entries = [(j, item) for j, item in enumerate(items) if isinstance(item, dict)]
        names = ((f"{path}.{key}[{j}].name", item["name"].strip()) for j, item in entries if isinstance(item.get("name"), str))
        errors += _unique(names, f"incident {label} name", key=str.casefold)
        defaults = [j for j, item in entries if _is_true(item.get("default"))]
        if len(defaults) != 1:
            found = ", ".join(f"{key}[{j}]" for j in defaults) or "none"
            errors.append(ConfigError(f"{path}.{key}", f"exactly one incident {label} must have default: true (found: {found})"))
        if key != "incident_types":
            orders = ((f"{path}.{key}[{j}].view_order", item.get("view_order", j + 1)) for j, item in entries)
            errors += _unique(((p, v) for p, v in orders if isinstance(v, int)), "view_order")
    return errors


def _is_true(value: Any) -> bool:
    """Whether pydantic would read `value` as True."""
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        return False


def _check_roles(roles: list[str]) -> list[ConfigError]:
    errors = _unique(((f"roles[{i}]", r) for i, r in enumerate(roles)), "role")
    if Role.COMMANDER not in roles:
        errors.append(ConfigError("roles", f"must include '{Role.COMMANDER}'"))
    return errors


def _unique(
    items: Iterable[tuple[str, Any]], what: str, key: Callable[[Any], Any] | None = None
) -> list[ConfigError]:
    """An error at each later occurrence of a (path, value) whose value (or `key(value)`) was seen."""
    seen: dict[Any, str] = {}
    errors = []
    for path, value in items:
        k = key(value) if key else value
        if k in seen:
            errors.append(ConfigError(path, f"duplicate {what} {value!r} (also at {seen[k]})"))
        else:
            seen[k] = path
    return errors
