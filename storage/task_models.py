"""Incident tasks and every message (card) that shows one."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from domain.core.vocabulary import TaskPriority, TaskStatus
from storage.types import UTCDateTime, utcnow


class IncidentTask(SQLModel, table=True):
    """An action item of an incident. `resource_id` lets external sources (doc comments) upsert it."""

    __tablename__ = "incident_task"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", index=True)
    description: str
    status: str = TaskStatus.OPEN
    priority: str = TaskPriority.MEDIUM
    creator_user_id: str
    assignees: list[Any] = Field(default_factory=list, sa_type=JSON)  # Slack user ids
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    resource_id: str | None = Field(default=None, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class TaskCard(SQLModel, table=True):
    """A posted message showing a task; all of them are updated when the task changes."""

    __tablename__ = "task_card"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    task_id: int = Field(foreign_key="incident_task.id", index=True)
    channel_id: str
    ts: str
