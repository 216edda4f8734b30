"""Cases (triage units, possibly escalated to incidents), their timeline and participants.

Case types, priorities and severities are config (domain/config/cases.py); a case stores their
names, so removing one from the config never orphans a case.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.core.vocabulary import CaseStatus
from storage.types import UTCDateTime, utcnow


def _at(nullable: bool = True) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Case(SQLModel, table=True):
    """A case. Its card is a message (`card_channel_id`, `card_ts`) whose thread is the case's
    conversation, unless the case has a `channel_id` of its own.

    `alert_count` counts the signals attached; `card_alert_count` is what the card last showed,
    so the card is edited only when they differ (and at most every few seconds).
    """

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_status_created_at", "status", "created_at"),
        Index("ix_case_card_channel_id_card_ts", "card_channel_id", "card_ts"),  # thread replies find their case
    )

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    number: int = Field(unique=True)
    name: str = Field(unique=True)
    title: str
    description: str = Field(default="", sa_type=Text)
    status: str = CaseStatus.NEW
    case_type: str
    priority: str
    severity: str
    assignee: str | None = None  # Slack user id
    reporter: str | None = None  # Slack user id; None for signal cases
    resolution_reason: str | None = None
    resolution: str | None = Field(default=None, sa_type=Text)
    signal_definition: str | None = Field(default=None, index=True)
    conversation_target: str | None = None  # channel the card goes to
    card_channel_id: str | None = None
    card_ts: str | None = None
    channel_id: str | None = Field(default=None, unique=True)  # dedicated case channel
    channel_name: str | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    alert_count: int = 0
    card_alert_count: int = 0
    card_synced_at: datetime | None = _at()
    idempotency_key: str | None = Field(default=None, unique=True)
    created_at: datetime = _at(False)
    triage_at: datetime | None = _at()
    escalated_at: datetime | None = _at()
    stable_at: datetime | None = _at()
    closed_at: datetime | None = _at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False,
                                 sa_column_kwargs={"onupdate": utcnow})


class CaseEvent(SQLModel, table=True):
    """A case timeline entry; `dedupe_key` makes redelivered events record once."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_started_at", "case_id", "started_at"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    case_id: int = Field(foreign_key="case.id")
    started_at: datetime = _at(False)
    source: str
    description: str = Field(sa_type=Text)
    author: str | None = None  # Slack user id
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    dedupe_key: str | None = Field(default=None, unique=True)


class CaseParticipant(SQLModel, table=True):
    """Someone working a case (assignee, reporter, anyone who joined or replied)."""

    __tablename__ = "case_participant"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    case_id: int = Field(foreign_key="case.id")
    user_id: str
    reason: str = ""
    added_at: datetime = _at(False)
    left_at: datetime | None = _at()  # left the case's own channel (still counted among those who worked it)


class CaseFeedback(SQLModel, table=True):
    """One person's feedback on how one case was handled (at most one row each); `anonymous` hides who."""

    __tablename__ = "case_feedback"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    case_id: int = Field(foreign_key="case.id")
    user_id: str
    rating: str
    comments: str | None = Field(default=None, sa_type=Text)
    anonymous: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
