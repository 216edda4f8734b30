"""Tables of the incident command center: editable incident details, stakeholder
notification groups, participant expertise and notification-channel announcements."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class IncidentDetail(SQLModel, table=True):
    """Per-incident data edited from the command center (notifications group; tags are in incident_tag)."""

    __tablename__ = "incident_detail"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id", unique=True)
    notify_user_ids: list[Any] = Field(default_factory=list, sa_type=JSON)
    notify_emails: list[Any] = Field(default_factory=list, sa_type=JSON)


class ParticipantDetail(SQLModel, table=True):
    """What a participant brings to the incident (expertise), edited with update-participant."""

    __tablename__ = "participant_detail"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    participant_id: int = Field(foreign_key="participant.id", unique=True)
    expertise: str | None = None


class IncidentAnnouncement(SQLModel, table=True):
    """The message announcing an incident in a notification channel; edited in place, never re-posted."""

    __tablename__ = "incident_announcement"
    __table_args__ = (UniqueConstraint("incident_id", "channel_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    channel_id: str
    ts: str | None = None
    # A post attempt claims the row (`attempts` is the compare-and-swap); a failed one leaves `error`
    # so the resume job posts it again (after a mark lookup) until `ts` is known.
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    error: str | None = Field(default=None, sa_type=Text)
