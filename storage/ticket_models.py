"""The Jira ticket of an incident and the progress of creating it and keeping it in step."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class IncidentTicket(SQLModel, table=True):
    """One row per incident with a ticket integration; `key` is set once the ticket exists.

    `claimed_until` is a lease: one process at a time creates or syncs the ticket. `error` and
    `next_attempt_at` record the last failure and when the resume job retries; `needs_sync` says
    an incident change has not reached the ticket yet.
    """

    __tablename__ = "incident_ticket"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", unique=True)
    key: str | None = None
    url: str | None = None
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    failure_announced: bool = False
    linked: bool = False  # bookmark added and pinned summary edited
    needs_sync: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CaseTicket(SQLModel, table=True):
    """The Jira ticket of a case whose type asks for one (`cases.types[].ticket`); same progress columns as
    `IncidentTicket`. `linked` means the case card shows it."""

    __tablename__ = "case_ticket"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    case_id: int = Field(foreign_key="case.id", unique=True)
    key: str | None = None
    url: str | None = None
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    failure_announced: bool = False
    linked: bool = False
    needs_sync: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
