"""Config as code: the warroom YAML file, its schema and every rule it must follow (no I/O but reading it).

`load_config(path)` returns a `WarroomConfig` or raises `ConfigInvalid` listing every error;
`validate_config_file(path)` returns that list (empty when valid). Each `ConfigError` names the
offending value by path (`projects[0].incident_priorities[2].view_order`) and, when it can be
found in the file, its line.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from domain.config.ai import AIConfig
from domain.config.base import SLACK_USER_ID, StrictModel
from domain.config.cases import CasesConfig
from domain.config.costs import CostsConfig
from domain.config.email import EmailConfig
from domain.config.engagement import EngagementConfig, OncallConfig
from domain.config.google import ConferenceConfig, GoogleConfig
from domain.config.incidents import ProjectConfig, default_projects
from domain.config.notifications import DailyJobsConfig, FollowUpConfig, NotificationChannelConfig
from domain.config.paging import PagerDutyConfig
from domain.config.profile import ProfileFieldsConfig
from domain.config.signals import SignalsConfig
from domain.config.tags import TagsConfig
from domain.config.tickets import TicketsConfig
from domain.config.workflows import WorkflowsConfig
from domain.core.vocabulary import Role

DEFAULT_ROLES = [role.value for role in Role]


_COMMAND = re.compile(r"^/[a-z0-9][a-z0-9_-]*$")


_EMOJI = re.compile(r"^[a-z0-9_+'-]+$")


COMMAND_MAX = 32


class CommandsConfig(StrictModel):
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
    list_workflows: str = "/dispatch-list-workflows"
    run_workflow: str = "/dispatch-run-workflow"
    summary: str = "/dispatch-summary"
    update_cost: str = "/dispatch-update-cost"

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


class WarroomConfig(StrictModel):
    """The whole config file. Every key is optional: an empty file gives a working install."""

    projects: list[ProjectConfig] = Field(default_factory=default_projects)
    roles: list[str] = Field(default_factory=lambda: list(DEFAULT_ROLES))
    admins: list[str] = Field(default_factory=list, description="Slack user ids allowed to run privileged commands")
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    timeline_reaction: str = "stopwatch"
    archive_on_close: bool = Field(default=True, description="archive the incident channel when the incident is Closed")
    notification_channels: list[NotificationChannelConfig] = Field(default_factory=list)
    daily_jobs: DailyJobsConfig = Field(default_factory=DailyJobsConfig)
    engagement: EngagementConfig = Field(default_factory=lambda: EngagementConfig())
    oncall: OncallConfig = Field(default_factory=lambda: OncallConfig())
    cases: CasesConfig = Field(default_factory=lambda: CasesConfig())
    signals: SignalsConfig = Field(default_factory=lambda: SignalsConfig())
    costs: CostsConfig = Field(default_factory=lambda: CostsConfig())
    tickets: TicketsConfig | None = Field(default=None, description="Jira tickets (none: no ticket integration)")
    tags: TagsConfig = Field(default_factory=lambda: TagsConfig())
    workflows: WorkflowsConfig = Field(default_factory=lambda: WorkflowsConfig())
    follow_up: FollowUpConfig = Field(default_factory=lambda: FollowUpConfig())
    profile_fields: ProfileFieldsConfig = Field(default_factory=lambda: ProfileFieldsConfig(), description=(
        "Slack custom profile fields read for participants' team and department"))
    ai: AIConfig | None = Field(default=None, description="AI read-ins, drafts and summaries (none: no AI)")
    pagerduty: PagerDutyConfig | None = Field(default=None, description="PagerDuty (none: static schedule, no pager)")
    email: EmailConfig | None = Field(default=None, description="stakeholder email over SMTP (none: no email)")
    google: GoogleConfig | None = Field(default=None, description="Google Drive documents and task sync (none: off)")
    conference: ConferenceConfig | None = Field(default=None, description="conference bridge (none: no bridge)")

    @field_validator("admins")
    @classmethod
    def _admin_ids(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not SLACK_USER_ID.match(a)]
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
