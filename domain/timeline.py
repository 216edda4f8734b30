"""The one place incident timeline events are recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import ensure_contact
from domain.core.notices import Notice
from storage.models import Event, IndividualContact
from storage.rows import table_of
from storage.types import utcnow
from storage.upsert import upsert_insert

SOURCE_WARROOM = "Incident Participant"
EVENTS = table_of(Event)  # Core inserts: no ORM bulk path for rows that are never loaded here


@dataclass(frozen=True)
class NewEvent:
    """A timeline entry to record (`record_events`)."""

    description: str
    author_id: int | None = None
    details: dict[str, Any] | None = None
    source: str = "warroom"
    dedupe_key: str | None = None
    started_at: datetime | None = None


async def record_event(
    session: AsyncSession,
    incident_id: int,
    description: str,
    *,
    source: str = "warroom",
    author_id: int | None = None,
    details: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    started_at: datetime | None = None,
) -> bool:
    """Add an event to the incident's timeline; with a `dedupe_key` it is recorded at most once.

    Returns whether a row was written. Does not commit.
    """
    event = NewEvent(description, author_id, details, source, dedupe_key, started_at)
    result = cast(CursorResult[Any], await session.execute(
        _event_insert(session, deduped=dedupe_key is not None), _event_row(incident_id, event, utcnow())))
    return (result.rowcount or 0) > 0


async def record_events(session: AsyncSession, incident_id: int, events: list[NewEvent]) -> None:
    """Add `events` to the incident's timeline in one round trip, each with a `dedupe_key` at most once.
    Does not commit."""
    if events:
        now = utcnow()
        await session.execute(_event_insert(session, deduped=any(e.dedupe_key for e in events)),
                              [_event_row(incident_id, e, now) for e in events])


def _event_insert(session: AsyncSession, *, deduped: bool) -> Any:
    """The timeline's insert; its parameters go beside it (one compiled form, whatever the rows)."""
    if not deduped:
        return insert(EVENTS)
    return upsert_insert(session, EVENTS).on_conflict_do_nothing(index_elements=["dedupe_key"])


def _event_row(incident_id: int, event: NewEvent, now: datetime) -> dict[str, Any]:
    return dict(incident_id=incident_id, description=event.description, source=event.source,
                author_id=event.author_id, details=event.details, dedupe_key=event.dedupe_key,
                started_at=event.started_at or now, created_at=now)


@dataclass(frozen=True)
class TimelineView(Notice):
    """One page of an incident's timeline, shown in the reader's time zone."""

    incident_name: str
    entries: list  # list[domain.timeline_entries.TimelineEntry]
    tz: str
    page: int
    pages: int
    command: str


PAGE_SIZE = 15


FUTURE_TOLERANCE = timedelta(minutes=5)


_COMMAND = re.compile(
    r"^\s*(?:DESC\s+(?P<desc>.*?))?\s*(?:DATE\s+(?P<date>\S+))?\s*(?:TIME\s+(?P<time>\S+))?\s*$", re.S | re.I
)


@dataclass(frozen=True)
class TimelineEntry:
    started_at: datetime
    description: str
    source: str
    author: str | None  # display name


@dataclass(frozen=True)
class ManualEventDraft:
    """What `/…-add-timeline-event DESC … DATE yyyy-mm-dd TIME hh:mm` pre-fills (any part optional)."""

    description: str = ""
    date: str | None = None  # yyyy-mm-dd
    time: str | None = None  # hh:mm


def parse_command_text(text: str) -> ManualEventDraft:
    """Pre-fill values from the command text; text without keywords is the description."""
    m = _COMMAND.match(text or "")
    if not m or not any(m.groupdict().values()):
        return ManualEventDraft(description=(text or "").strip())
    d, t = m["date"], m["time"]
    try:
        date.fromisoformat(d) if d else None
    except ValueError:
        d = None
    try:
        time.fromisoformat(t) if t else None
    except ValueError:
        t = None
    return ManualEventDraft((m["desc"] or "").strip(), d, t)


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def event_time(day: str, at: str, tz_name: str, *, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """(aware UTC datetime, None) or (None, error) for a date and time typed in `tz_name`."""
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(at), tzinfo=zone(tz_name))
    except (TypeError, ValueError):
        return None, "Pick a date and a time."
    when = local.astimezone(ZoneInfo("UTC"))
    if when > (now or utcnow()) + FUTURE_TOLERANCE:
        return None, "That moment is in the future; the timeline records what already happened."
    return when, None


@dataclass(frozen=True)
class TimelineEventAdded(Notice):
    """Posted in the incident channel when someone adds an event by hand."""

    user_id: str
    description: str
    when: datetime


async def add_manual_event(
    session: AsyncSession, incident_id: int, user_id: str, description: str, when: datetime, *,
    dedupe_key: str | None = None,
) -> bool:
    """Record an event someone typed in (once per `dedupe_key`); commits. Returns whether it was recorded now."""
    contact = await ensure_contact(session, user_id)
    first = await record_event(
        session, incident_id, description, source=f"Added by {contact.name}", author_id=contact.id, started_at=when,
        dedupe_key=dedupe_key,
    )
    await session.commit()
    return first


async def timeline_page(session: AsyncSession, incident_id: int, page: int) -> tuple[list[TimelineEntry], int]:
    """Entries of 1-based `page`, oldest first, and the number of pages (at least 1)."""
    rows = (
        await session.execute(
            select(Event, col(IndividualContact.name))
            .outerjoin(IndividualContact, col(IndividualContact.id) == col(Event.author_id))
            .where(col(Event.incident_id) == incident_id)
            .order_by(col(Event.started_at), col(Event.id))
        )
    ).all()
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return [TimelineEntry(e.started_at, e.description, e.source, name) for e, name in chunk], pages
