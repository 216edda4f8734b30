"""Section `profile_fields:` — which Slack custom profile fields hold a person's team and department
(like Dispatch's Slack contact plugin: `profile_team_field_id`, `profile_department_field_id`)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from domain.config.base import StrictModel

_FIELD_ID = re.compile(r"^Xf[A-Z0-9]{4,}$")


class ProfileFieldsConfig(StrictModel):
    """Ids of custom profile fields (Slack admin → Customize → Profile; `users.profile.get` shows them)."""

    team: str | None = Field(default=None, description="custom profile field id holding the team (e.g. Xf01ABCDEF)")
    department: str | None = Field(default=None, description="custom profile field id holding the department")

    @field_validator("team", "department")
    @classmethod
    def _field_id(cls, v: str | None) -> str | None:
        if v is not None and not _FIELD_ID.match(v):
            raise ValueError(f"{v!r} is not a Slack profile field id (like Xf01ABCDEF)")
        return v

    @property
    def wanted(self) -> bool:
        return bool(self.team or self.department)
