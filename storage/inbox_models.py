"""Submissions stored as they arrived, before their modal closes, and processed after the ack."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class InboxItem(SQLModel, table=True):
    """One submitted modal (`key`: its view id), stored in one statement so the ack never waits on the
    work it asks for; `processed_at` is set once that work is stored.

    `holder` ("instance#boot") and `claimed_until` lease the processing: the process that stored it
    processes it at once; after a crash its restart (same instance) or any replica once the lease ends
    takes it back. `attempts` and `error` record failed processing.
    """

    __tablename__ = "inbox_item"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    kind: str
    key: str = Field(unique=True)
    user_id: str
    user_name: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    holder: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
