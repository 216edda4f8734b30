"""Workflow runs and the follow-up reminders of Stable incidents."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from domain.core.vocabulary import WorkflowStatus
from storage.types import UTCDateTime, utcnow


class WorkflowInstance(SQLModel, table=True):
    """One run of a workflow for an incident or a case.

    `id` is a UUID: the workflow reports back to `/workflows/instances/{id}`. `idempotency_key` (the run
    form's view id, or `signal:<case>:<workflow>`) makes a double submit one run. While `pending`, the
    webhook has not accepted it: `claimed_until` is the lease of the process calling it, `attempts`,
    `error` and `next_attempt_at` its retries. `version` counts changes; `shown_version` is what the
    channel message (`channel_id`, `message_ts`) shows, so a failed edit is made again later.
    """

    __tablename__ = "workflow_instance"

    id: str = Field(primary_key=True, max_length=36)
    workflow: str
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reason: str = Field(default="", sa_type=Text)
    creator: str | None = None  # Slack user id; None when a signal started it
    status: str = Field(default=WorkflowStatus.PENDING, index=True)
    weblink: str | None = None
    artifacts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    message: str | None = Field(default=None, sa_type=Text)  # the workflow's last word (e.g. why it failed)
    idempotency_key: str | None = Field(default=None, unique=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    channel_id: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    version: int = 1
    shown_version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class IncidentFollowUp(SQLModel, table=True):
    """When the commander of a Stable incident is next reminded to close it (`next_at`), and when last."""

    __tablename__ = "incident_follow_up"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", unique=True)
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    sent: int = 0
