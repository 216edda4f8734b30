"""Notifications."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from domain.config.base import StrictModel


class NotificationChannelConfig(StrictModel):
    """A channel where open incidents are announced; empty filters match everything."""

    name: str = Field(min_length=1)
    channel: str = Field(min_length=1, description="Slack channel id")
    incident_types: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    # "Open" is Visibility.OPEN (a type checker cannot read an enum's value as a literal type).
    visibility: list[Literal["Open"]] = Field(default_factory=list, description="restricted incidents are never announced")


class DailyJobsConfig(StrictModel):
    """When the daily jobs (feedback digest, daily summary) run."""

    hour: int = Field(default=9, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/Paris)") from None
        return v


class FollowUpConfig(StrictModel):
    """The follow-up loop: an incident Stable for more than `stable_days` gets a DM to its commander every
    `remind_every_days` (with Close it / Remind me next week), naming its open tasks."""

    enabled: bool = True
    stable_days: int = Field(default=7, ge=1, description="days Stable before the first reminder")
    remind_every_days: int = Field(default=7, ge=1, description="days between reminders (and what 'Remind me next week' snoozes)")
