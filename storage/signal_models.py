"""Signal instances (stored alerts: the queue the worker drains), their entities, and snooze filters made in Slack."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from domain.core.vocabulary import FilterAction, SignalStatus
from storage.types import UTCDateTime, utcnow


def _at(nullable: bool = True, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class SignalInstance(SQLModel, table=True):
    """One alert as received. Stored (committed) before the HTTP reply, processed later.

    `id` is the sender's instance UUID (or one assigned), which makes posting twice harmless.
    `outcome` says what processing did: case (new case), deduplicated, snoozed, stored (no case wanted),
    no_target (case made, nowhere to post it).
    """

    __tablename__ = "signal_instance"
    __table_args__ = (
        Index("ix_signal_instance_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_signal_instance_definition_received_at", "definition", "received_at"),
        # The queue in arrival order: a claim reads its batch off this, however deep the queue is.
        Index("ix_signal_instance_pending_received_at", "received_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: str = Field(primary_key=True, max_length=36)
    organization: str
    project: str | None = None
    definition: str
    source: str  # the signal source that authenticated it
    raw: dict[str, Any] = Field(sa_type=JSON)
    overrides: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    received_at: datetime = _at(False)
    status: str = SignalStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime = _at(False)
    claimed_by: str | None = None
    claimed_until: datetime | None = _at()
    last_error: str | None = Field(default=None, sa_type=Text)
    processed_at: datetime | None = _at()
    outcome: str | None = None
    filter_name: str | None = None
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)


class SignalEntity(SQLModel, table=True):
    """An entity (ip, user...) found in an instance; shared entities drive dedup and snooze."""

    __tablename__ = "signal_entity"
    __table_args__ = (
        UniqueConstraint("instance_id", "entity_type", "value"),
        Index("ix_signal_entity_entity_type_value_created_at", "entity_type", "value", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    instance_id: str = Field(foreign_key="signal_instance.id", max_length=36)
    entity_type: str
    value: str
    definition: str
    created_at: datetime = _at(False)


class SignalFilter(SQLModel, table=True):
    """A snooze made from a case card: instances of `definition` carrying all `entities` make no case until `expires_at`."""

    __tablename__ = "signal_filter"

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    name: str
    reason: str = Field(default="", sa_type=Text)
    action: str = FilterAction.SNOOZE
    definition: str | None = Field(default=None, index=True)
    entities: list[Any] = Field(default_factory=list, sa_type=JSON)  # [{"type": ..., "value": ...}]
    expires_at: datetime | None = _at(index=True)
    created_by: str | None = None
    case_id: int | None = Field(default=None, foreign_key="case.id")
    created_at: datetime = _at(False)


class SignalSignature(SQLModel, table=True):
    """A timestamped HMAC signature already accepted: the same request again is a replay until `expires_at`,
    when its timestamp has left the signature window (and it is refused as stale anyway). Shared by every
    process on the database; expired rows are deleted as new ones come."""

    __tablename__ = "signal_signature"

    signature: str = Field(primary_key=True, max_length=64)  # hex HMAC-SHA256
    source: str
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
