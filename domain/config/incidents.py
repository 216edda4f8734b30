"""Incidents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field, PositiveInt, field_validator, model_validator

from domain.config.base import StrictModel
from domain.core.vocabulary import Visibility

_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


CHANNEL_PREFIX_MAX = 20


class IncidentTypeConfig(StrictModel):
    """One incident type of a project."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    visibility: Visibility = Field(default=Visibility.OPEN, validate_default=True)


class IncidentPriorityConfig(StrictModel):
    """One incident priority of a project; reminders in hours (none when unset)."""

    name: str = Field(min_length=1)
    description: str = ""
    view_order: int | None = Field(default=None, description="position in pick lists; default: position in the file")
    default: bool = False
    tactical_report_reminder_hours: PositiveInt | None = None
    executive_report_reminder_hours: PositiveInt | None = None
    page_commander: bool = False


class IncidentSeverityConfig(StrictModel):
    """One incident severity of a project."""

    name: str = Field(min_length=1)
    description: str = ""
    view_order: int | None = Field(default=None, description="position in pick lists; default: position in the file")
    default: bool = False
    allowed_for_stable: bool = True


class ProjectConfig(StrictModel):
    """A project: its channel naming and the types/priorities/severities offered when reporting."""

    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    channel_prefix: str = "inc"
    stable_priority: str | None = Field(default=None, description="priority an incident switches to when marked Stable")
    allow_self_join: bool = Field(default=True, description="announcements offer a Join button")
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
        ordered: tuple[Sequence[IncidentPriorityConfig | IncidentSeverityConfig], ...] = (
            self.incident_priorities, self.incident_severities)
        for items in ordered:
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


def default_projects() -> list[ProjectConfig]:
    return [ProjectConfig.model_validate(DEFAULT_PROJECT)]


# Built-in defaults: the same as warroom.example.yaml (a test keeps them in step).
DEFAULT_PROJECT: dict[str, Any] = {
    "name": "default",
    "description": "Default project",
    "default": True,
    "channel_prefix": "inc",
    "incident_types": [
        {"name": "Security", "description": "Attacks, vulnerabilities being exploited, leaked credentials.",
         "visibility": Visibility.RESTRICTED},
        {"name": "Reliability", "description": "Outages, errors and degraded performance of our services.",
         "default": True},
        {"name": "Privacy", "description": "Personal data exposed, misused or processed without a basis.",
         "visibility": Visibility.RESTRICTED},
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
