"""Scheduled-job bookkeeping: one row per job name, used as a cross-process lock."""

from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class JobRun(SQLModel, table=True):
    """Who runs a job now (lease until `locked_until`) and how its last run ended."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True)
    holder: str | None = None
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    runs: int = 0
    # The interval slot of the last run (jobs/runner.py): each slot runs once across every process.
    last_slot: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
