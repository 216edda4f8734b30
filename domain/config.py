"""Config as code: the warroom YAML file, its schema and every rule it must follow (no I/O but reading it).

`load_config(path)` returns a `WarroomConfig` or raises `ConfigInvalid` listing every error;
`validate_config_file(path)` returns that list (empty when valid). Each `ConfigError` names the
offending value by path (`projects[0].incident_priorities[2].view_order`) and, when it can be
found in the file, its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from domain.case_config import CasesConfig, SignalsConfig, reference_errors
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, TypeAdapter, field_validator, model_validator

# --------------------------------------------------------------------------- schema

DEFAULT_ROLES = ["commander", "scribe", "liaison", "observer", "participant", "reporter"]

_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_COMMAND = re.compile(r"^/[a-z0-9][a-z0-9_-]*$")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_EMOJI = re.compile(r"^[a-z0-9_+'-]+$")
CHANNEL_PREFIX_MAX = 20
COMMAND_MAX = 32


class _Strict(BaseModel):
    """Unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncidentTypeConfig(_Strict):
    """One incident type of a project."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    visibility: Literal["Open", "Restricted"] = "Open"


class IncidentPriorityConfig(_Strict):
    """One incident priority of a project; reminders in hours (none when unset)."""

    name: str = Field(min_length=1)
    description: str = ""
    view_order: int | None = Field(None, description="position in pick lists; default: position in the file")
    default: bool = False
    tactical_report_reminder_hours: PositiveInt | None = None
    executive_report_reminder_hours: PositiveInt | None = None
    page_commander: bool = False


class IncidentSeverityConfig(_Strict):
    """One incident severity of a project."""

    name: str = Field(min_length=1)
    description: str = ""
    view_order: int | None = Field(None, description="position in pick lists; default: position in the file")
    default: bool = False
    allowed_for_stable: bool = True


class ProjectConfig(_Strict):
    """A project: its channel naming and the types/priorities/severities offered when reporting."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    channel_prefix: str = "inc"
    stable_priority: str | None = Field(None, description="priority an incident switches to when marked Stable")
    allow_self_join: bool = Field(True, description="announcements offer a Join button")
    incident_types: list[IncidentTypeConfig]
    incident_priorities: list[IncidentPriorityConfig]
    incident_severities: list[IncidentSeverityConfig]

    @field_validator("channel_prefix")
    @classmethod
    def _channel_prefix(cls, v: str) -> str:
        if len(v) > CHANNEL_PREFIX_MAX or not _CHANNEL_PREFIX.match(v):
            raise ValueError(
                f"must be 1-{CHANNEL_PREFIX_MAX} characters: lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        return v

    @model_validator(mode="after")
    def _fill_view_order(self) -> ProjectConfig:
        for items in (self.incident_priorities, self.incident_severities):
            for position, item in enumerate(items, start=1):
                if item.view_order is None:
                    item.view_order = position
        return self

    def default_type(self) -> IncidentTypeConfig:
        return next(t for t in self.incident_types if t.default)

    def default_priority(self) -> IncidentPriorityConfig:
        return next(p for p in self.incident_priorities if p.default)

    def default_severity(self) -> IncidentSeverityConfig:
        return next(s for s in self.incident_severities if s.default)


class CommandsConfig(_Strict):
    """Slash command names (defaults are Dispatch's, so existing habits carry over)."""

    report_incident: str = "/dispatch-report-incident"
    update_incident: str = "/dispatch-update-incident"
    assign_role: str = "/dispatch-assign-role"
    engage_oncall: str = "/dispatch-engage-oncall"
    list_participants: str = "/dispatch-list-participants"
    update_participant: str = "/dispatch-update-participant"
    list_incidents: str = "/dispatch-list-incidents"
    notifications_group: str = "/dispatch-notifications-group"
    add_timeline_event: str = "/dispatch-add-timeline-event"
    timeline: str = "/dispatch-timeline"
    list_tasks: str = "/dispatch-list-tasks"
    list_my_tasks: str = "/dispatch-list-my-tasks"
    create_task: str = "/dispatch-create-task"
    report_tactical: str = "/dispatch-report-tactical"
    report_executive: str = "/dispatch-report-executive"
    create_case: str = "/dispatch-create-case"
    update_case: str = "/dispatch-update-case"
    escalate_case: str = "/dispatch-escalate-case"
    list_signals: str = "/dispatch-list-signals"

    @field_validator("*")
    @classmethod
    def _command_name(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("must start with '/'")
        if len(v) > COMMAND_MAX:
            raise ValueError(f"must be at most {COMMAND_MAX} characters including the '/'")
        if not _COMMAND.match(v):
            raise ValueError("must be lowercase letters, digits, '-' or '_' after the '/'")
        return v


class NotificationChannelConfig(_Strict):
    """A channel where open incidents are announced; empty filters match everything."""

    name: str = Field(min_length=1)
    channel: str = Field(min_length=1, description="Slack channel id")
    incident_types: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    visibility: list[Literal["Open"]] = Field(default_factory=list, description="restricted incidents are never announced")


class _EngagementRule(_Strict):
    """Who to engage when an incident matches: any term (phrase or any of its words), type or priority."""

    terms: list[str] = Field(default_factory=list)
    incident_types: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)


class EngageIndividual(_EngagementRule):
    """A person: internal (Slack `user`) are invited as observers; external (`email` only) are suggested."""

    name: str = Field(min_length=1)
    user: str | None = None
    email: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> EngageIndividual:
        if not self.user and not self.email:
            raise ValueError("needs a Slack user id (user) or an email")
        return self


class EngageTeam(_EngagementRule):
    """A team: its Slack `members` are invited; an `email` only is suggested to the channel."""

    name: str = Field(min_length=1)
    members: list[str] = Field(default_factory=list)
    email: str | None = None


class EngageService(_EngagementRule):
    """A service whose on-call people (via the oncall port) are invited."""

    name: str = Field(min_length=1)


class EngagementConfig(_Strict):
    individuals: list[EngageIndividual] = Field(default_factory=list)
    teams: list[EngageTeam] = Field(default_factory=list)
    services: list[EngageService] = Field(default_factory=list)


class OncallConfig(_Strict):
    """The static on-call schedule: service name -> Slack user ids on call (first is primary)."""

    schedules: dict[str, list[str]] = Field(default_factory=dict)


def _default_projects() -> list[ProjectConfig]:
    return [ProjectConfig.model_validate(DEFAULT_PROJECT)]


class DailyJobsConfig(_Strict):
    """When the daily jobs (feedback digest, daily summary) run."""

    hour: int = Field(9, ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/Paris)") from None
        return v


class WarroomConfig(_Strict):
    """The whole config file. Every key is optional: an empty file gives a working install."""

    projects: list[ProjectConfig] = Field(default_factory=_default_projects)
    roles: list[str] = Field(default_factory=lambda: list(DEFAULT_ROLES))
    admins: list[str] = Field(default_factory=list, description="Slack user ids allowed to run privileged commands")
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    timeline_reaction: str = "stopwatch"
    archive_on_close: bool = Field(True, description="archive the incident channel when the incident is Closed")
    notification_channels: list[NotificationChannelConfig] = Field(default_factory=list)
    daily_jobs: DailyJobsConfig = Field(default_factory=DailyJobsConfig)
    engagement: EngagementConfig = Field(default_factory=lambda: EngagementConfig())
    oncall: OncallConfig = Field(default_factory=lambda: OncallConfig())
    cases: CasesConfig = Field(default_factory=lambda: CasesConfig())
    signals: SignalsConfig = Field(default_factory=lambda: SignalsConfig())

    @field_validator("admins")
    @classmethod
    def _admin_ids(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not _SLACK_USER_ID.match(a)]
        if bad:
            raise ValueError(f"not Slack user ids (like U012AB3CD): {', '.join(map(repr, bad))}")
        return v

    @field_validator("timeline_reaction")
    @classmethod
    def _emoji_name(cls, v: str) -> str:
        v = v.strip(":")
        if not _EMOJI.match(v):
            raise ValueError("must be an emoji name such as stopwatch (lowercase, no spaces)")
        return v

    def default_project(self) -> ProjectConfig:
        """The project used when a reporter does not pick one."""
        return next((p for p in self.projects if p.default), self.projects[0])

    def project(self, name: str) -> ProjectConfig | None:
        return next((p for p in self.projects if p.name == name), None)


# Built-in defaults: the same as warroom.example.yaml (a test keeps them in step).
DEFAULT_PROJECT: dict[str, Any] = {
    "name": "default",
    "description": "Default project",
    "default": True,
    "channel_prefix": "inc",
    "incident_types": [
        {"name": "Security", "description": "Attacks, vulnerabilities being exploited, leaked credentials.",
         "visibility": "Restricted"},
        {"name": "Reliability", "description": "Outages, errors and degraded performance of our services.",
         "default": True},
        {"name": "Privacy", "description": "Personal data exposed, misused or processed without a basis.",
         "visibility": "Restricted"},
    ],
    "incident_priorities": [
        {"name": "Low", "description": "Work on it during business hours.", "view_order": 1, "default": True,
         "tactical_report_reminder_hours": 24},
        {"name": "Medium", "description": "Work on it today.", "view_order": 2,
         "tactical_report_reminder_hours": 12, "executive_report_reminder_hours": 24},
        {"name": "High", "description": "Drop other work; page the commander.", "view_order": 3,
         "tactical_report_reminder_hours": 4, "executive_report_reminder_hours": 12, "page_commander": True},
        {"name": "Critical", "description": "All hands, around the clock.", "view_order": 4,
         "tactical_report_reminder_hours": 1, "executive_report_reminder_hours": 4, "page_commander": True},
    ],
    "incident_severities": [
        {"name": "Undetermined", "description": "Impact not assessed yet.", "view_order": 1, "default": True,
         "allowed_for_stable": False},
        {"name": "Minor", "description": "Few customers affected, a workaround exists.", "view_order": 2},
        {"name": "Major", "description": "Many customers affected or a key feature unavailable.", "view_order": 3},
        {"name": "Critical", "description": "Service down, data loss, or legal exposure.", "view_order": 4},
    ],
}


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ConfigError:
    """One problem in a config file: where (`path`, `line`) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(file)'}: {self.message}"


class ConfigInvalid(Exception):
    """The config file has errors; `errors` lists them all."""

    def __init__(self, errors: list[ConfigError], source: str | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.source = source

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(f"{prefix}{err}" for err in self.errors)


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None) -> WarroomConfig:
    """The config in the YAML file at `path`, or the built-in defaults when `path` is None."""
    if path is None:
        return WarroomConfig()
    config, errors = _load_file(path)
    if errors or config is None:
        raise ConfigInvalid(errors, str(path))
    return config


def validate_config_file(path: str | Path) -> list[ConfigError]:
    """Every error in the YAML file at `path` (empty list: valid)."""
    return _load_file(path)[1]


def parse_config(text: str) -> WarroomConfig:
    """The config in YAML `text`; raises `ConfigInvalid`."""
    config, errors = check_config_text(text)
    if errors or config is None:
        raise ConfigInvalid(errors)
    return config


def check_config_text(text: str) -> tuple[WarroomConfig | None, list[ConfigError]]:
    """Parse and validate YAML `text`: the config when valid, and every error found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [ConfigError("", f"YAML syntax error: {problem}", mark.line + 1 if mark else None)]

    errors = _duplicate_keys(node, ())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, errors + [ConfigError("", "the file must be a mapping (projects:, roles:, ...)", 1)]

    config: WarroomConfig | None = None
    try:
        config = WarroomConfig.model_validate(data)
    except ValidationError as exc:
        errors += [_from_pydantic(err) for err in exc.errors()]
    errors += _semantic_errors(data)
    if config is not None:
        errors += [ConfigError(path, message) for path, message in reference_errors(config)]

    errors = [ConfigError(e.path, e.message, e.line or _line_of(node, e.path)) for e in errors]
    errors.sort(key=lambda e: (e.line or 0))
    return (None if errors else config), errors


def _load_file(path: str | Path) -> tuple[WarroomConfig | None, list[ConfigError]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigError("", f"cannot read the file: {exc}")]
    return check_config_text(text)


# --------------------------------------------------------------------------- semantic rules


def _semantic_errors(data: dict[str, Any]) -> list[ConfigError]:
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
                           for i, u in enumerate(users) if not (isinstance(u, str) and _SLACK_USER_ID.match(u))]
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
        names = {p["name"].strip().casefold() for p in priorities if isinstance(p, dict) and isinstance(p.get("name"), str)}
        if stable.strip().casefold() not in names:
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
    if "commander" not in roles:
        errors.append(ConfigError("roles", "must include 'commander'"))
    return errors


def _unique(items: Any, what: str, key: Any = None) -> list[ConfigError]:
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


# --------------------------------------------------------------------------- paths and lines


def _from_pydantic(err: Any) -> ConfigError:
    path = _format_path(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required"
    elif err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    return ConfigError(path, msg)


def _format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the value at `path`, or of its closest existing parent."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for key, index in _PATH_PART.findall(path):
        if isinstance(node, yaml.MappingNode) and key:
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node | None, path: tuple[Any, ...]) -> list[ConfigError]:
    """YAML silently keeps the last of duplicate keys; report them instead."""
    errors: list[ConfigError] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in seen:
                errors.append(ConfigError(_format_path((*path, name)), "duplicate key", key.start_mark.line + 1))
            seen.add(name)
            errors += _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            errors += _duplicate_keys(item, (*path, i))
    return errors
