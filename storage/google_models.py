"""What warroom made in Google for an incident (Drive folder, documents, Meet bridge) and task sync state."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class IncidentResource(SQLModel, table=True):
    """One external resource of an incident, made by one recorded, resumable step.

    `kind` is `folder`, `document`, `review` or `conference`. `external_id` is set once it exists;
    `claimed_until` is a lease (one process at a time works on it); `error` and `next_attempt_at`
    record the last failure and when the resume job retries; `shared_with` the emails given access;
    `synced_until` the modified time up to which the document's comments were read (task sync).
    """

    __tablename__ = "incident_resource"
    __table_args__ = (UniqueConstraint("incident_id", "kind"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str
    external_id: str | None = None
    url: str | None = None
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    failure_announced: bool = False
    linked: bool = False  # bookmarked and shown in the pinned summary (and announced, for a review)
    needs_sync: bool = False  # e.g. new participants to share with
    shared_with: list[Any] = Field(default_factory=list, sa_type=JSON)
    synced_until: str | None = None  # RFC 3339, Drive's modifiedTime of the last comment read
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DocumentCommentTask(SQLModel, table=True):
    """A document comment that assigns someone, and the task made of it.

    `comment_resolved` and `task_status` are both sides as last reconciled: whichever side changed
    since then wins at the next sync (a Slack change is pushed to the comment with a reply).
    """

    __tablename__ = "document_comment_task"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    task_id: int = Field(foreign_key="incident_task.id", unique=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    document_id: str
    comment_id: str = Field(unique=True)
    comment_resolved: bool = False
    comment_deleted: bool = False
    task_status: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
