"""Google Workspace: the `google:` section (service account, Drive folder and incident documents, task sync from
document comments) and the `conference:` section (a Google Meet bridge per incident). Both absent: nothing Google."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from domain.config.base import StrictModel

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOMAIN = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}$")


class GoogleDocumentsConfig(StrictModel):
    """A Drive folder per incident, holding the incident document copied from a template and filled in."""

    parent_folder_id: str = Field(min_length=1, description="Drive folder (or shared drive id) the incident folders go in")
    incident_template_id: str = Field(min_length=1, description="document copied as each incident's document")
    review_template_id: str | None = Field(None, description="document copied as the post-incident review when the "
                                           "incident becomes Stable (none: no review document)")
    share_role: Literal["reader", "commenter", "writer"] = "writer"
    share_domains: list[str] = Field(default_factory=list, description="only participants with an email in these "
                                     "domains get access (empty: every participant with an email)")
    include_restricted: bool = Field(True, description="restricted incidents get a folder too, shared only with "
                                     "their participants")

    @field_validator("share_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        v = [d.strip().lower().lstrip("@") for d in v]
        bad = [d for d in v if not _DOMAIN.match(d)]
        if bad:
            raise ValueError(f"not email domains (like example.com): {', '.join(map(repr, bad))}")
        return v


class GoogleTaskSyncConfig(StrictModel):
    """Comments of incident documents that assign someone (`+name@company.com`) become warroom tasks."""

    enabled: bool = True
    interval_seconds: int = Field(default=60, ge=10, le=3600, description="how often the comments are read")


class GoogleConfig(StrictModel):
    """Service-account access to Drive, Docs and Calendar."""

    credentials_env: str = Field("GOOGLE_SERVICE_ACCOUNT_FILE", description="name of the environment variable holding "
                                 "the path of the service account's JSON key file")
    subject: str | None = Field(None, description="user the service account acts as (domain-wide delegation); "
                                "needed for Meet links on most Workspace domains")
    api_base: str | None = Field(None, description="endpoint override: Drive at <base>drive/v3/, Docs at <base>docs/, "
                                 "Calendar at <base>calendar/v3/ (a local emulator); none: Google's own hosts")
    timeout: float = Field(10.0, gt=0, le=120, description="seconds one Google call may take")
    documents: GoogleDocumentsConfig | None = None
    task_sync: GoogleTaskSyncConfig = Field(default_factory=lambda: GoogleTaskSyncConfig())

    @field_validator("credentials_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV_NAME.match(v):
            raise ValueError("must be the name of an environment variable (letters, digits, _), not the key itself")
        return v

    @field_validator("api_base")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/") + "/"


class ConferenceConfig(StrictModel):
    """A conference bridge created for each incident during set-up."""

    provider: Literal["google_meet"] = "google_meet"
    calendar_id: str = Field("primary", min_length=1, description="calendar the bridge's event is created in")
    include_restricted: bool = True


def google_reference_errors(config: object) -> list[tuple[str, str]]:
    """(path, message) when `conference:` needs a `google:` section that is missing (config: a WarroomConfig)."""
    if getattr(config, "conference", None) is not None and getattr(config, "google", None) is None:
        return [("conference", "provider google_meet needs the google: section (service account credentials)")]
    return []
