"""Config-as-code schema of cases and signals (sections `cases:` and `signals:` of the warroom file).

Kept apart from domain/config.py, which imports these models into `WarroomConfig`; cross-item
rules (names referenced by definitions exist, one default per list...) are checked here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from domain.config.base import StrictModel, check_channel_id
from domain.core.vocabulary import Visibility


class CaseTypeConfig(StrictModel):
    """A kind of case: where its card is posted, who is assigned, what it escalates to."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    conversation_target: str | None = Field(default=None, description="Slack channel id where case cards are posted")
    oncall_service: str | None = Field(default=None, description="service whose on-call person is the default assignee")
    incident_type: str | None = Field(default=None, description="incident type used on escalation (default: the project's)")
    project: str | None = Field(default=None, description="project of incidents escalated from this type (default project)")
    auto_close: bool = Field(default=False, description="close a case as soon as it is created (context only)")
    dedicated_channel: bool = Field(default=False, description="give each case its own channel instead of a thread card")
    visibility: Visibility = Field(default=Visibility.OPEN, validate_default=True, description=(
        "Restricted: cards go only to conversation_target (never where the case was opened, nor a signal's target), "
        "its own channel is private, outsiders cannot join, and it escalates to a Restricted incident"))
    triage_hours: float | None = Field(default=4, gt=0, description=(
        "a case still New after this many hours reminds its assignee (again every as many hours); null: never"))
    stale_days: float | None = Field(default=3, gt=0, description=(
        "a Triage or Stable case without change for this many days reminds its assignee (again every as many "
        "days); null: never"))
    page_assignee: bool = Field(default=False, description="page the assignee (PagerDuty) when the case gets one")
    ticket: bool = Field(default=False, description="give each case of this type a Jira ticket (needs tickets:)")
    ticket_issue_type: str | None = Field(default=None, min_length=1,
                                          description="Jira issue type of its tickets (default: tickets.issue_type)")

    _target = field_validator("conversation_target")(lambda cls, v: check_channel_id(v))

    @model_validator(mode="after")
    def _restricted_has_its_channel(self) -> CaseTypeConfig:
        if self.visibility == Visibility.RESTRICTED and not self.conversation_target:
            raise ValueError(f"case type {self.name!r} is Restricted: give it a conversation_target (a private "
                             "channel), the only place its cards go")
        return self


class CaseLevelConfig(StrictModel):
    """A case priority or severity."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    page_assignee: bool = Field(default=False, description=(
        "priorities only: page the assignee (through the on-call port) when a case gets this priority or a new "
        "assignee"))


class CasesConfig(StrictModel):
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
            if label == "severities" and any(getattr(i, "page_assignee", False) for i in items):
                raise ValueError("cases.severities: page_assignee is for types and priorities")
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
