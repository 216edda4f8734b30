"""Pages sent to on-call people and stakeholder emails: each recorded before it is sent, sent once."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OncallPage(SQLModel, table=True):
    """One page of a service's on-call or of a person, for an incident.

    `dedup_key` is unique and is the pager's dedup key too: a page asked for twice (double click,
    redelivered envelope, a second engage) is one row and one pager incident. `claimed_until` is a
    lease held while sending; `error`/`next_attempt_at` record the last failure and the next retry.
    """

    __tablename__ = "oncall_page"

    id: int = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)  # an incident's page
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)  # or a case's (page_assignee)
    dedup_key: str = Field(unique=True)
    target_kind: str  # "service" or "person"
    target: str  # the service's name or the person's Slack id
    email: str | None = None  # a paged person's email (how the pager knows them)
    reason: str = ""
    requested_by: str | None = None  # Slack user id, none for automatic pages
    subject: str | None = None  # a case page: the case's name, what it says and where it links (fixed when asked)
    summary: str | None = None
    link: str | None = None
    reference: str | None = None  # the pager's incident id or dedup key once sent
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    failure_announced: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StakeholderEmail(SQLModel, table=True):
    """One email to one stakeholder about one thing (a report, a status change), stored before sending.

    `key` (unique) names what and to whom, so the same update never queues a second email; the
    Message-ID is fixed at insert, so a resend after a crash mid-delivery is recognisable by mail clients.
    """

    __tablename__ = "stakeholder_email"

    id: int = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    key: str = Field(unique=True)
    recipient: str
    subject: str
    text_body: str = Field(sa_type=Text)
    html_body: str = Field(sa_type=Text)
    message_id: str
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
