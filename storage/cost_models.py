"""Response costs: cost rows per incident or case and model, per participant, and what was read from Slack.

A subject is an incident or a case (`subject` = "incident" | "case", `subject_id` its id); no
foreign key, so one table serves both.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.types import UTCDateTime, utcnow


class ResponseCost(SQLModel, table=True):
    """What responding to a subject cost under one cost model (classic or a named activity model).

    `calculated_until`: the classic model counted role time up to then; `review_added`: the
    closing review hours are in `hours`."""

    __tablename__ = "response_cost"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "model"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    subject: str
    subject_id: int
    model: str
    hours: float = 0.0
    amount: float = 0.0
    calculated_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    review_added: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ParticipantCost(SQLModel, table=True):
    """One person's share of a `ResponseCost`; `span_end` (epoch seconds) ends their open work span."""

    __tablename__ = "participant_cost"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "model", "user_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    subject: str
    subject_id: int
    model: str
    user_id: str
    hours: float = 0.0
    amount: float = 0.0
    activities: int = 0
    span_end: float | None = None


class CostModelAssignment(SQLModel, table=True):
    """From `since`, the subject is costed with `model` (a type change assigns its type's model)."""

    __tablename__ = "cost_model_assignment"
    __table_args__ = (Index("ix_cost_model_assignment_subject_subject_id", "subject", "subject_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    subject: str
    subject_id: int
    model: str
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CostCursor(SQLModel, table=True):
    """How far a conversation was read: a channel's top level (`thread_ts` "") or one thread.

    `last_ts`: newest message counted; `latest_reply`: a thread's latest reply when last read;
    `polled_at`: when the last read began; `marked_at`: a person's message event arrived then (set
    at most once per read), so the cost job reads only conversations that had something new."""

    __tablename__ = "cost_cursor"

    channel_id: str = Field(primary_key=True)
    thread_ts: str = Field(default="", primary_key=True)
    subject: str
    subject_id: int
    last_ts: str | None = None
    latest_reply: str | None = None
    polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    marked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class CustomCost(SQLModel, table=True):
    """An amount of a custom cost type (from `costs.custom_types`, e.g. "Lost revenue") entered for a
    subject; shown beside the response cost, never added to it."""

    __tablename__ = "custom_cost"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "cost_type"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    subject: str
    subject_id: int
    cost_type: str
    amount: float
    updated_by: str | None = None  # Slack user id
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


INCIDENT_SUBJECT = "incident"
CASE_SUBJECT = "case"


async def subject_costs(session: AsyncSession, subject: str, ids: Iterable[int]) -> dict[int, float]:
    """The response cost of each subject costed so far (every model summed); the others are absent."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = (await session.execute(
        select(col(ResponseCost.subject_id), func.sum(ResponseCost.amount))
        .where(col(ResponseCost.subject) == subject, col(ResponseCost.subject_id).in_(wanted))
        .group_by(col(ResponseCost.subject_id)))).all()
    return {subject_id: float(total) for subject_id, total in rows}


async def subject_cost(session: AsyncSession, subject: str, subject_id: int) -> float | None:
    return (await subject_costs(session, subject, [subject_id])).get(subject_id)


async def custom_costs(session: AsyncSession, subject: str, subject_id: int) -> dict[str, float]:
    """The custom costs entered for a subject, by cost type."""
    rows = (await session.execute(select(col(CustomCost.cost_type), col(CustomCost.amount)).where(
        col(CustomCost.subject) == subject, col(CustomCost.subject_id) == subject_id))).all()
    return dict(rows)
