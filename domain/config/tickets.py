"""Tickets: the `tickets:` section (Jira). Absent means no ticket integration, and the bot behaves as without it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from domain.config.base import StrictModel

_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL = re.compile(r"^\S+$")


class TicketTransitions(StrictModel):
    """Names of the Jira workflow transitions that bring a ticket to each incident status.

    `reopen` is taken first when a Closed incident is reopened and the status transition is not
    offered from the ticket's current status (a Done ticket usually needs reopening first).
    """

    Active: str | None = "Start Progress"
    Stable: str | None = "Mitigate"
    Closed: str | None = "Done"
    reopen: str | None = "Reopen"


class TicketsConfig(StrictModel):
    """A Jira ticket per incident, created during set-up and kept in step with it."""

    server: str = Field(description="base URL of the Jira site, e.g. https://example.atlassian.net")
    user_email: str = Field(min_length=3, description="the account the API token belongs to")
    api_token_env: str = Field("JIRA_API_TOKEN", description="name of the environment variable holding the API token")
    project_key: str = Field(description="Jira project key the tickets are created in, e.g. INC")
    issue_type: str = Field("Task", min_length=1)
    priorities: dict[str, str] = Field(default_factory=dict,
                                       description="incident priority name -> Jira priority name (unmapped: none set)")
    transitions: TicketTransitions = Field(default_factory=TicketTransitions)
    labels: list[str] = Field(default_factory=lambda: ["warroom"], description="labels every ticket carries")
    include_restricted: bool = Field(False, description="also ticket Restricted incidents (their title and description "
                                     "then reach everyone who can browse the Jira project)")
    timeout: float = Field(10.0, gt=0, le=120, description="seconds one Jira call may take")
    assignee: Literal["commander", "none"] = Field(
        "commander", description="assign an incident's ticket to its commander (and a case's to its assignee), "
        "found in Jira by their Slack email or through `users`; none: leave assignment to people in Jira")
    users: dict[str, str] = Field(default_factory=dict, description="Slack user id or email -> Jira accountId, for "
                                  "people whose Jira account has another email or hides it")

    @field_validator("server")
    @classmethod
    def _server_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("api_token_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV_NAME.match(v):
            raise ValueError("must be the name of an environment variable (letters, digits, _), not the token")
        return v

    @field_validator("project_key")
    @classmethod
    def _project_key(cls, v: str) -> str:
        if not _PROJECT_KEY.match(v):
            raise ValueError("must be a Jira project key: 2-10 uppercase letters/digits starting with a letter")
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        bad = [label for label in v if not _LABEL.match(label)]
        if bad:
            raise ValueError(f"Jira labels cannot contain spaces: {', '.join(map(repr, bad))}")
        return v
