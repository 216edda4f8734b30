"""Tables of incident reports and their reminders."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class IncidentReport(SQLModel, table=True):
    """A tactical or executive report, as submitted."""

    __tablename__ = "incident_report"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str  # tactical | executive
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    author_id: int | None = Field(default=None, foreign_key="individual_contact.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Adding an executive report to the incident document, a recorded step: `pending` until `appended` (or
    # `skipped`: the incident has no document); claimed by one process at a time, retried after a failure.
    document_state: str | None = Field(default=None, index=True)
    document_attempts: int = 0
    document_error: str | None = Field(default=None, sa_type=Text)
    document_next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    document_claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class ReportReminder(SQLModel, table=True):
    """Reminder bookkeeping per incident and report kind; due times are derived, never stored.

    `reminded_for` is the due time last reminded about: claiming it with a conditional write
    makes every bot process agree on who sends the one reminder of an interval.
    """

    __tablename__ = "report_reminder"
    __table_args__ = (UniqueConstraint("incident_id", "kind"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    kind: str
    reminded_for: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
