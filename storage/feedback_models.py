"""Post-incident feedback from participants."""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Feedback(SQLModel, table=True):
    """One person's feedback on one incident (at most one row each); `anonymous` hides who."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    user_id: str
    rating: str
    comments: str | None = Field(default=None, sa_type=Text)
    anonymous: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
