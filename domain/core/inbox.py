"""The inbox: a modal submission stored in one short statement before its modal closes, and turned into
what it asks for right after the ack.

Storing a report used to take a dozen statements (lookups, a counter, the incident, its timeline and
participants) before the ack, and a burst of reports queued on them (and on the counter row's lock).
Now the ack waits only for one `INSERT … ON CONFLICT DO NOTHING` of the raw submission, shared by every
submission that arrives while the previous insert is in flight (group commit). The process that stored an
item processes it at once; a crash leaves it unprocessed, and its restart (same instance) or, once the
lease ends, any replica processes it: the work is idempotent on the item's key (the view id).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from domain.core.outage import committed
from storage.db import ack_write
from storage.inbox_models import InboxItem
from storage.rows import table_of
from storage.types import utcnow
from storage.upsert import upsert_insert

log = logging.getLogger(__name__)
INBOX_LEASE = timedelta(seconds=30)  # an item unprocessed this long after it was stored (or last tried) is replayed
MAX_ATTEMPTS = 5
MAX_GROUP = 200  # submissions stored by one statement


@dataclass(frozen=True)
class Arrival:
    """A submission as it came: what kind of work, its key (the view id), who sent it, the typed form's fields."""

    kind: str
    key: str
    user_id: str
    user_name: str | None
    payload: dict[str, Any]


@dataclass
class Inbox:
    """Stores arrivals; those arriving while a store is in flight share the next statement and commit."""

    sessions: async_sessionmaker[AsyncSession]
    holder: str
    _waiting: list[tuple[Arrival, asyncio.Future[bool]]] = field(default_factory=list)
    _storing: asyncio.Task[None] | None = None

    async def accept(self, arrival: Arrival) -> bool:
        """Store `arrival`; True when it is new, False when its key was stored before (a double submit).
        Once it returns the submission is committed: a watching registry may ack (`committed()`).
        Raises what the database raised."""
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((arrival, stored))
        if self._storing is None or self._storing.done():
            # A context of its own: the store's commit must not count as the commit of whichever listener
            # happened to start it.
            self._storing = loop.create_task(self._store_waiting(), context=contextvars.Context())
        new = await stored
        committed()
        return new

    async def _store_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                new = await self._store([arrival for arrival, _ in group])
            except BaseException as exc:  # each waiting listener decides (outage: keep its modal open)
                for _, stored in group:
                    if not stored.done():
                        stored.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for arrival, stored in group:
                if not stored.done():
                    stored.set_result(arrival.key in new)
                new.discard(arrival.key)  # the same view twice in one group: the first one is the new one

    async def _store(self, arrivals: list[Arrival]) -> set[str]:
        now = utcnow()
        table = table_of(InboxItem)
        async with ack_write(self.sessions.kw["bind"]), self.sessions() as session:
            # The rows go beside one compiled statement (SQLAlchemy sends them as one multi-row insert): a
            # `.values([...])` of them would be compiled anew for every group, on the acks' path.
            statement = upsert_insert(session, table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
            keys = set((await session.execute(statement, [
                {"kind": a.kind, "key": a.key, "user_id": a.user_id, "user_name": a.user_name, "payload": a.payload,
                 "received_at": now, "holder": self.holder, "claimed_until": now + INBOX_LEASE, "attempts": 0}
                for a in arrivals])).scalars())
            await session.commit()
        return keys


async def inbox_item(session: AsyncSession, key: str) -> InboxItem | None:
    return (await session.execute(select(InboxItem).where(col(InboxItem.key) == key))).scalar_one_or_none()


async def mark_processed(session: AsyncSession, key: str) -> bool:
    """The item's work is stored; commits. False (nothing committed): it was processed before."""
    result = await session.execute(update(InboxItem).where(col(InboxItem.key) == key, col(InboxItem.processed_at).is_(None))
                                   .values(processed_at=utcnow(), claimed_until=None, error=None)
                                   .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        return False
    await session.commit()
    return True


async def record_failure(session: AsyncSession, key: str, error: str) -> None:
    """Processing failed: count it; the item is replayed once its lease ends (up to MAX_ATTEMPTS). Commits."""
    await session.execute(update(InboxItem).where(col(InboxItem.key) == key)
                          .values(attempts=col(InboxItem.attempts) + 1, error=error[:2000],
                                  claimed_until=utcnow() + INBOX_LEASE)
                          .execution_options(synchronize_session=False))
    await session.commit()


def _replayable(kind: str, holder: str, instance: str | None) -> Any:
    """Unprocessed items of `kind` whose lease ended, or (with `instance`, at start-up) left by an earlier boot
    of this replica, whatever their lease."""
    lease_over = col(InboxItem.claimed_until) < utcnow()
    if instance is not None:
        lease_over = or_(lease_over, and_(col(InboxItem.holder).startswith(f"{instance}#", autoescape=True),
                                          col(InboxItem.holder) != holder))
    return and_(col(InboxItem.kind) == kind, col(InboxItem.processed_at).is_(None),
                col(InboxItem.attempts) < MAX_ATTEMPTS, lease_over)


async def claim_replays(session: AsyncSession, kind: str, holder: str, *, instance: str | None = None,
                        limit: int = 50) -> list[str]:
    """Keys of unprocessed items this process now holds (each claimed by compare-and-swap, so any number of
    replicas replay an item once); commits."""
    keys = (await session.execute(select(col(InboxItem.key)).where(_replayable(kind, holder, instance))
                                  .order_by(col(InboxItem.id)).limit(limit))).scalars().all()
    claimed = []
    for key in keys:
        result = await session.execute(
            update(InboxItem).where(col(InboxItem.key) == key, _replayable(kind, holder, instance))
            .values(holder=holder, claimed_until=utcnow() + INBOX_LEASE).execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(key)
    await session.commit()
    return claimed
