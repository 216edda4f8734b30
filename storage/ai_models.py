"""What the AI wrote that is kept: the summary at close of an incident, the analysis of a signal case."""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

AI_INCIDENT, AI_CLOSE = "incident", "close"  # AISummary.subject and .kind of an incident's summary at close


class AISummary(SQLModel, table=True):
    """One per (subject, subject id, kind): `subject` is `incident` or `case`, `kind` `close` or `analysis`.

    The row is claimed (`state` pending) before the AI is asked, so two processes never post the same
    analysis; `text` is what the AI answered (after the person-facing failure, `error` says why not).
    """

    __tablename__ = "ai_summary"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "kind"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    subject: str
    subject_id: int
    kind: str
    state: str = "pending"  # pending | done | failed
    text: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)
    model: str | None = None
    message_ts: str | None = None  # the message showing it (a case card's thread reply), once posted
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
