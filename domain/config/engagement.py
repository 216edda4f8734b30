"""Engagement."""

from __future__ import annotations

from pydantic import Field, model_validator

from domain.config.base import StrictModel


class EngagementRule(StrictModel):
    """Who to engage when an incident matches: any term (phrase or any of its words), type or priority."""

    terms: list[str] = Field(default_factory=list)
    incident_types: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)


class EngageIndividual(EngagementRule):
    """A person: internal (Slack `user`) are invited as observers; external (`email` only) are suggested."""

    name: str = Field(min_length=1)
    user: str | None = None
    email: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> EngageIndividual:
        if not self.user and not self.email:
            raise ValueError("needs a Slack user id (user) or an email")
        return self


class EngageTeam(EngagementRule):
    """A team: its Slack `members` are invited; an `email` only is suggested to the channel."""

    name: str = Field(min_length=1)
    members: list[str] = Field(default_factory=list)
    email: str | None = None


class EngageService(EngagementRule):
    """A service whose on-call people (via the oncall port) are invited."""

    name: str = Field(min_length=1)


class EngagementConfig(StrictModel):
    individuals: list[EngageIndividual] = Field(default_factory=list)
    teams: list[EngageTeam] = Field(default_factory=list)
    services: list[EngageService] = Field(default_factory=list)
    observer_messages: int = Field(
        default=3, ge=0, description="messages an observer posts in the incident channel before becoming a participant (0: never)")


class OncallConfig(StrictModel):
    """The static on-call schedule: service name -> Slack user ids on call (first is primary)."""

    schedules: dict[str, list[str]] = Field(default_factory=dict)
