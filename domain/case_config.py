"""Config-as-code schema of cases and signals (sections `cases:` and `signals:` of the warroom file).

Kept apart from domain/config.py, which imports these models into `WarroomConfig`; cross-item
rules (names referenced by definitions exist, one default per list...) are checked here too.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _channel_id(v: str | None) -> str | None:
    if v is not None and not _CHANNEL_ID.match(v):
        raise ValueError("must be a Slack channel id such as C012AB3CD")
    return v


# --------------------------------------------------------------------------- cases


class CaseTypeConfig(_Strict):
    """A kind of case: where its card is posted, who is assigned, what it escalates to."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    conversation_target: str | None = Field(None, description="Slack channel id where case cards are posted")
    oncall_service: str | None = Field(None, description="service whose on-call person is the default assignee")
    incident_type: str | None = Field(None, description="incident type used on escalation (default: the project's)")
    project: str | None = Field(None, description="project of incidents escalated from this type (default project)")
    auto_close: bool = Field(False, description="close a case as soon as it is created (context only)")
    dedicated_channel: bool = Field(False, description="give each case its own channel instead of a thread card")

    _target = field_validator("conversation_target")(lambda cls, v: _channel_id(v))


class CaseLevelConfig(_Strict):
    """A case priority or severity."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False


class CasesConfig(_Strict):
    """Case types, priorities and severities."""

    types: list[CaseTypeConfig] = Field(default_factory=lambda: [CaseTypeConfig(**t) for t in DEFAULT_CASE_TYPES])
    priorities: list[CaseLevelConfig] = Field(
        default_factory=lambda: [CaseLevelConfig(**p) for p in DEFAULT_CASE_PRIORITIES])
    severities: list[CaseLevelConfig] = Field(
        default_factory=lambda: [CaseLevelConfig(**s) for s in DEFAULT_CASE_SEVERITIES])

    @model_validator(mode="after")
    def _one_default_each(self) -> CasesConfig:
        for label, items in (("types", self.types), ("priorities", self.priorities), ("severities", self.severities)):
            if not items:
                raise ValueError(f"cases.{label}: at least one is required")
            names = [i.name.casefold() for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"cases.{label}: duplicate names {', '.join(dupes)}")
            defaults = [i.name for i in items if i.default]
            if len(defaults) != 1:
                raise ValueError(f"cases.{label}: exactly one must have default: true (found: {', '.join(defaults) or 'none'})")
        return self

    def type(self, name: str | None) -> CaseTypeConfig:
        """The type called `name` (any case), else the default one."""
        return _named(self.types, name)

    def priority(self, name: str | None) -> CaseLevelConfig:
        return _named(self.priorities, name)

    def severity(self, name: str | None) -> CaseLevelConfig:
        return _named(self.severities, name)


def _named(items: list[Any], name: str | None) -> Any:
    if name:
        found = next((i for i in items if i.name.casefold() == name.strip().casefold()), None)
        if found is not None:
            return found
    return next(i for i in items if i.default)


DEFAULT_CASE_TYPES: list[dict[str, Any]] = [
    {"name": "Security triage", "description": "Alerts and reports that may be a security incident.", "default": True,
},
    {"name": "Reliability triage", "description": "Alerts about errors and degraded services.",
},
]
DEFAULT_CASE_PRIORITIES: list[dict[str, Any]] = [
    {"name": "Low", "description": "Look at it within a business day."},
    {"name": "Medium", "description": "Look at it today.", "default": True},
    {"name": "High", "description": "Look at it within the hour."},
    {"name": "Critical", "description": "Look at it now."},
]
DEFAULT_CASE_SEVERITIES: list[dict[str, Any]] = [
    {"name": "Undetermined", "description": "Not assessed yet.", "default": True},
    {"name": "Low", "description": "Little or no impact."},
    {"name": "Medium", "description": "Limited impact."},
    {"name": "High", "description": "Serious impact."},
]


# --------------------------------------------------------------------------- signals


class SignalSourceConfig(_Strict):
    """A sender allowed to post signals: a bearer token, or an HMAC-SHA256 signature of the body.

    Secrets come from the environment (`*_env`, recommended) or inline (tests, demos).
    """

    name: str = Field(min_length=1)
    auth: Literal["bearer", "hmac"] = "bearer"
    token: str | None = None
    token_env: str | None = None
    secret: str | None = Field(None, description="HMAC key")
    secret_env: str | None = None
    signature_header: str = "X-Warroom-Signature"
    organizations: list[str] = Field(default_factory=list, description="organizations it may post to (empty: any)")
    definitions: list[str] = Field(default_factory=list, description="definitions it may post (empty: any)")

    @model_validator(mode="after")
    def _has_secret(self) -> SignalSourceConfig:
        if self.auth == "bearer" and not (self.token or self.token_env):
            raise ValueError("a bearer source needs token or token_env")
        if self.auth == "hmac" and not (self.secret or self.secret_env):
            raise ValueError("an hmac source needs secret or secret_env")
        return self


class EntityTypeConfig(_Strict):
    """A kind of entity pulled out of raw payloads by JSONPath and/or a regular expression."""

    name: str = Field(min_length=1)
    description: str = ""
    jsonpath: str | None = None
    regex: str | None = None
    scope: Literal["global", "definition"] = Field(
        "definition", description="global: applied to every signal; definition: only where a definition lists it")

    @field_validator("jsonpath")
    @classmethod
    def _jsonpath(cls, v: str | None) -> str | None:
        if v is not None:
            from jsonpath_ng.ext import parse

            try:
                parse(v)
            except Exception as exc:  # jsonpath_ng raises several unrelated types
                raise ValueError(f"not a valid JSONPath: {exc}") from None
        return v

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _some_rule(self) -> EntityTypeConfig:
        if not self.jsonpath and not self.regex:
            raise ValueError("needs jsonpath, regex, or both")
        return self


class SignalDefinitionConfig(_Strict):
    """A kind of alert. Matched on `raw.externalId` (and `raw.variant` when set), else on `raw.variant`, else on `raw.name`."""

    name: str = Field(min_length=1)
    external_id: str | None = None
    variant: str | None = None
    owner: str = ""
    description: str = ""
    runbook: str | None = None
    enabled: bool = True
    create_case: bool = Field(True, description="false: store and extract only (context signals)")
    case_type: str | None = None
    case_priority: str | None = None
    conversation_target: str | None = Field(None, description="Slack channel id (default: the case type's)")
    entity_types: list[str] = Field(default_factory=list)
    dedup_window_seconds: int = Field(3600, ge=0, description="same-definition signals within it join the open case")

    _target = field_validator("conversation_target")(lambda cls, v: _channel_id(v))


class EntityMatch(_Strict):
    type: str = Field(min_length=1)
    value: str = Field(min_length=1)


class SignalFilterConfig(_Strict):
    """deduplicate: a signal sharing an entity of `entity_types` with one within `window_seconds` joins its case.
    snooze: a signal carrying all of `entities` makes no case until `expires_at`."""

    name: str = Field(min_length=1)
    action: Literal["deduplicate", "snooze"]
    definitions: list[str] = Field(default_factory=list, description="empty: every definition")
    entity_types: list[str] = Field(default_factory=list)
    window_seconds: PositiveInt = 3600
    entities: list[EntityMatch] = Field(default_factory=list)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        """A time written without a zone (`2026-12-31 00:00`) is UTC, so it compares with aware times."""
        return v.replace(tzinfo=timezone.utc) if v is not None and v.tzinfo is None else v

    @model_validator(mode="after")
    def _complete(self) -> SignalFilterConfig:
        if self.action == "deduplicate" and not self.entity_types:
            raise ValueError("a deduplicate filter needs entity_types")
        if self.action == "snooze" and not self.entities:
            raise ValueError("a snooze filter needs entities")
        return self


class SignalsConfig(_Strict):
    """Signal ingestion: who may post, what the alerts are, what to extract, what to filter."""

    organization: str = Field("default", description="the {organization} in /api/v1/{organization}/signals/instances")
    max_body_bytes: PositiveInt = 1024 * 1024
    worker_batch: PositiveInt = 50
    max_attempts: PositiveInt = 5
    card_refresh_seconds: float = Field(3.0, ge=0, description="a case card's alert count is edited at most this often")
    sources: list[SignalSourceConfig] = Field(default_factory=list)
    entity_types: list[EntityTypeConfig] = Field(default_factory=list)
    definitions: list[SignalDefinitionConfig] = Field(default_factory=list)
    filters: list[SignalFilterConfig] = Field(default_factory=list)

    def definition(self, name: str) -> SignalDefinitionConfig | None:
        return next((d for d in self.definitions if d.name == name), None)

    def snoozes_in_force(self, now: datetime, definition: str | None = None) -> list[SignalFilterConfig]:
        """Config snoozes not expired at `now` (applying to `definition`, when given)."""
        return [f for f in self.filters if f.action == "snooze" and (f.expires_at is None or f.expires_at > now)
                and (definition is None or not f.definitions or definition in f.definitions)]

    def entity_types_for(self, definition: SignalDefinitionConfig) -> list[EntityTypeConfig]:
        """Global entity types plus those the definition lists."""
        return [e for e in self.entity_types if e.scope == "global" or e.name in definition.entity_types]


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
    return problems


def config_warnings(config: Any) -> list[str]:
    """Legal but probably unintended settings (config: a WarroomConfig): shown by `config validate`, logged at start."""
    warnings = []
    for i, d in enumerate(config.signals.definitions):
        ctype = config.cases.type(d.case_type)
        if d.enabled and d.create_case and not (d.conversation_target or ctype.conversation_target):
            warnings.append(f"signals.definitions[{i}] ({d.name}): its cases have no channel (set conversation_target "
                            f"on it or on case type {ctype.name!r}); unless a sender names one, nobody will see them")
    if config.signals.definitions and not config.signals.sources:
        warnings.append("signals: definitions but no sources, so every POST is refused (401)")
    return warnings
