"""Tables of warroom (SQLModel). Importing this module registers them on `SQLModel.metadata`.

Conventions:
- int autoincrement `id` primary keys (except `counter`, keyed by name);
- every datetime is an aware UTC datetime (`UTCDateTime`, default `utcnow`);
- enum-like columns (status, visibility, role, setup_state...) are plain strings; their
  values are named once, in `domain/core/vocabulary.py`, and validated in `domain/`;
- constraints and indexes are named by `NAMING_CONVENTION`, so SQLite batch migrations can
  drop or alter them by name later.

No ORM relationships are declared on purpose: with async sessions lazy loading raises, so
queries join or select explicitly.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.core.vocabulary import IncidentStatus, SetupState, Visibility
from storage.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

def _utc(*, nullable: bool = False, onupdate: bool = False, index: bool = False) -> Any:
    """A UTC datetime field; non-nullable ones default to now."""
    kwargs: dict[str, Any] = {"onupdate": utcnow} if onupdate else {}
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index, sa_column_kwargs=kwargs)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index, sa_column_kwargs=kwargs)


class Project(SQLModel, table=True):
    """A set of incident types, priorities and severities; one is the default."""

    __tablename__ = "project"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    name: str = Field(unique=True)
    description: str = ""
    default: bool = False
    created_at: datetime = _utc()


class IncidentType(SQLModel, table=True):
    """Kind of incident (Security, Reliability...); decides the default visibility."""

    __tablename__ = "incident_type"
    __table_args__ = (UniqueConstraint("project_id", "name"),)  # also serves as the project_id index

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id")
    name: str
    description: str = ""
    visibility: str = Visibility.OPEN
    default: bool = False
    enabled: bool = True


class IncidentPriority(SQLModel, table=True):
    """How urgently an incident is worked; drives report reminders and commander paging."""

    __tablename__ = "incident_priority"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id")
    name: str
    description: str = ""
    view_order: int = 0
    default: bool = False
    enabled: bool = True
    tactical_report_reminder_hours: int | None = None
    executive_report_reminder_hours: int | None = None
    page_commander: bool = False


class IncidentSeverity(SQLModel, table=True):
    """How bad the impact is; some severities (e.g. Undetermined) forbid marking an incident Stable."""

    __tablename__ = "incident_severity"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id")
    name: str
    description: str = ""
    view_order: int = 0
    default: bool = False
    enabled: bool = True
    allowed_for_stable: bool = True


class IndividualContact(SQLModel, table=True):
    """A person known from Slack (reporter, commander, participant, event author)."""

    __tablename__ = "individual_contact"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    slack_user_id: str = Field(unique=True)
    email: str | None = Field(default=None, index=True)
    name: str = ""
    tz: str = "UTC"
    created_at: datetime = _utc()
    updated_at: datetime = _utc(onupdate=True)


class Counter(SQLModel, table=True):
    """Named sequence (e.g. incident numbers); bump it only through `storage.counters.next_number`."""

    __tablename__ = "counter"

    name: str = Field(primary_key=True)
    value: int = 0


class Incident(SQLModel, table=True):
    """An incident and the progress of its multi-step set-up (channel, messages...).

    `idempotency_key` (e.g. the view id of the submitted report modal) makes a double submit
    create one incident; `setup_state` records the last creation step reached so a failed or
    interrupted set-up can be resumed; `setup_channel_name` and `reporter_confirmed_at` let a
    resumed set-up tell what an attempt that died half-way already did.
    """

    __tablename__ = "incident"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int = Field(unique=True)
    name: str = Field(unique=True)
    title: str
    description: str = Field(default="", sa_type=Text)
    resolution: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default=IncidentStatus.ACTIVE, index=True)
    visibility: str = Visibility.OPEN
    incident_type_id: int = Field(foreign_key="incident_type.id", index=True)
    incident_priority_id: int = Field(foreign_key="incident_priority.id", index=True)
    incident_severity_id: int = Field(foreign_key="incident_severity.id", index=True)
    reporter_id: int = Field(foreign_key="individual_contact.id", index=True)
    commander_id: int | None = Field(default=None, foreign_key="individual_contact.id", index=True)
    channel_id: str | None = Field(default=None, unique=True)
    channel_name: str | None = None
    origin_channel_id: str | None = None
    origin_message_permalink: str | None = None
    summary_message_ts: str | None = None
    closing_message_ts: str | None = None  # the closing summary, edited in place when the final cost comes in
    idempotency_key: str | None = Field(default=None, unique=True)
    setup_state: str = Field(default=SetupState.PENDING, index=True)
    setup_error: str | None = Field(default=None, sa_type=Text)
    setup_attempts: int = 0
    # The name set-up asks Slack for, committed before each conversations.create: an attempt that
    # died while Slack was creating the channel leaves it here for the next one to look up.
    setup_channel_name: str | None = None
    reporter_confirmed_at: datetime | None = _utc(nullable=True)  # the reporter was told where the channel is
    # Who runs the set-up attempt ("instance#boot"); its heartbeat keeps `updated_at` fresh (the lease).
    setup_holder: str | None = None
    created_at: datetime = _utc()
    reported_at: datetime = _utc()
    stable_at: datetime | None = _utc(nullable=True)
    closed_at: datetime | None = _utc(nullable=True)
    updated_at: datetime = _utc(onupdate=True)


class Participant(SQLModel, table=True):
    """A person's membership of an incident; `inactive_at` is set when they leave."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("incident_id", "individual_id"),)  # also the incident_id index

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    individual_id: int = Field(foreign_key="individual_contact.id", index=True)
    added_reason: str | None = None
    added_by_id: int | None = Field(default=None, foreign_key="individual_contact.id", index=True)
    team: str | None = None  # from the Slack profile (profile_fields.team)
    department: str | None = None  # from the Slack profile (profile_fields.department)
    active_at: datetime = _utc()
    inactive_at: datetime | None = _utc(nullable=True)
    message_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # top-level messages in the channel


class ParticipantRole(SQLModel, table=True):
    """A role (commander, scribe...) held by a participant; history kept via `renounced_at`."""

    __tablename__ = "participant_role"
    __table_args__ = (Index("ix_participant_role_participant_id_role", "participant_id", "role"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    participant_id: int = Field(foreign_key="participant.id")
    role: str
    assumed_at: datetime = _utc()
    renounced_at: datetime | None = _utc(nullable=True)


class Event(SQLModel, table=True):
    """A timeline entry of an incident; `dedupe_key` makes re-delivered Slack events record once."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_incident_id_started_at", "incident_id", "started_at"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    started_at: datetime = _utc()
    ended_at: datetime | None = _utc(nullable=True)
    source: str
    description: str = Field(sa_type=Text)
    author_id: int | None = Field(default=None, foreign_key="individual_contact.id", index=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    dedupe_key: str | None = Field(default=None, unique=True)
    created_at: datetime = _utc()


__all__ = [
    "NAMING_CONVENTION",
    "Counter",
    "Event",
    "Incident",
    "IncidentPriority",
    "IncidentSeverity",
    "IncidentType",
    "IndividualContact",
    "Participant",
    "ParticipantRole",
    "Project",
    "utcnow",
]

# Tables of other concepts live in their own modules; imported here so the metadata sees them.
from storage.ai_models import AISummary  # noqa: E402,F401
from storage.case_models import Case, CaseEvent, CaseFeedback, CaseParticipant  # noqa: E402,F401
from storage.command_models import IncidentAnnouncement, IncidentDetail, ParticipantDetail  # noqa: E402,F401
from storage.cost_models import (  # noqa: E402,F401
    CostCursor,
    CostModelAssignment,
    CustomCost,
    ParticipantCost,
    ResponseCost,
)
from storage.feedback_models import Feedback  # noqa: E402,F401
from storage.google_models import DocumentCommentTask, IncidentResource  # noqa: E402,F401
from storage.inbox_models import InboxItem  # noqa: E402,F401
from storage.job_models import JobRun  # noqa: E402,F401
from storage.paging_models import OncallPage, StakeholderEmail  # noqa: E402,F401
from storage.report_models import IncidentReport, ReportReminder  # noqa: E402,F401
from storage.signal_models import SignalEntity, SignalFilter, SignalInstance, SignalSignature  # noqa: E402,F401
from storage.tag_models import CaseTag, IncidentTag, Tag, TagType  # noqa: E402,F401
from storage.task_models import IncidentTask, TaskCard  # noqa: E402,F401
from storage.ticket_models import CaseTicket, IncidentTicket  # noqa: E402,F401
from storage.workflow_models import IncidentFollowUp, WorkflowInstance  # noqa: E402,F401
