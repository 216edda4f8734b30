"""Paging: the `pagerduty:` section. Absent means the static schedule (`oncall.schedules`) and no pager."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from domain.config.base import StrictModel

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PD_ID = re.compile(r"^P[A-Z0-9]{5,}$")


def _env_name(v: str | None) -> str | None:
    if v is not None and not _ENV_NAME.match(v):
        raise ValueError("must be the name of an environment variable (letters, digits, _), not the secret")
    return v


def _url(v: str) -> str:
    if not v.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return v.rstrip("/")


class PagerDutyService(StrictModel):
    """A PagerDuty service offered by engage-oncall: who is on call comes from its escalation policy;
    a page goes through its Events API v2 integration (`routing_key_env`), else the REST API."""

    name: str = Field(min_length=1, description="the name shown in Slack (and used by engagement rules)")
    id: str = Field(description="PagerDuty service id, e.g. PSVC123")
    routing_key_env: str | None = Field(None, description="environment variable holding the service's Events API v2 "
                                        "integration key (none: pages are REST incidents)")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _PD_ID.match(v):
            raise ValueError("must be a PagerDuty id such as PSVC123 (P then uppercase letters/digits)")
        return v

    _env = field_validator("routing_key_env")(classmethod(lambda cls, v: _env_name(v)))


class PagerDutyConfig(StrictModel):
    """On-call lookups and pages through PagerDuty's REST API v2 and Events API v2."""

    api_token_env: str = Field("PAGERDUTY_API_TOKEN", description="environment variable holding the REST API token")
    from_email: str = Field(min_length=3, description="a PagerDuty user's email: the From header of REST writes")
    api_url: str = Field("https://api.pagerduty.com", description="REST API base URL")
    events_url: str = Field("https://events.pagerduty.com", description="Events API base URL")
    services: list[PagerDutyService] = Field(default_factory=list)
    commander_service: str | None = Field(None, description="service (by name) on which `page_commander` priorities "
                                          "page the commander (a REST incident assigned to them)")
    timeout: float = Field(5.0, gt=0, le=60, description="seconds one PagerDuty call may take")
    cache_seconds: float = Field(60.0, ge=0, le=3600, description="how long an on-call lookup is reused")

    _urls = field_validator("api_url", "events_url")(classmethod(lambda cls, v: _url(v)))
    _env = field_validator("api_token_env")(classmethod(lambda cls, v: _env_name(v)))

    @model_validator(mode="after")
    def _names(self) -> PagerDutyConfig:
        names = [s.name.casefold() for s in self.services]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"services named twice: {', '.join(dupes)}")
        if self.commander_service and self.commander_service.casefold() not in names:
            raise ValueError(f"commander_service {self.commander_service!r} is not one of the services")
        return self

    def service(self, name: str) -> PagerDutyService | None:
        return next((s for s in self.services if s.name.casefold() == name.casefold()), None)
