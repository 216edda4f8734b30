"""The signal worker: claims stored instances in batches and decides each batch in the claiming
transaction, while a separate card task posts new cases' cards and catches up on lagging ones.

Several processes may run a worker on one Postgres database: the claim is `FOR UPDATE SKIP LOCKED`
and the rows stay locked until the batch commits, so no instance is processed twice, and a worker
that dies mid-batch leaves its instances pending at once (its transaction rolls back). On SQLite
the single-writer lock makes the claim statement exclusive. A failing instance is
retried with exponential backoff and parked after `signals.max_attempts` — it never blocks others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from domain.cases.cards import sync_cards
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.vocabulary import SignalStatus
from domain.signals.process import Outcome, QueuedSignal, batch_order, process_batch
from domain.workflows import deliver_due
from storage.db import write_gate
from storage.rows import table_of
from storage.signal_models import SignalInstance
from storage.types import utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BACKOFF_MAX = 300.0
IDLE_POLL = 1.0  # seconds between polls when nothing woke the worker (other processes' signals)
CARD_SYNC_EVERY = 1.0
SQLITE_PAUSE = 0.05

Processor = Callable[[AsyncSession, list[QueuedSignal], WarroomConfig, datetime], Awaitable[dict[str, Outcome]]]


def backoff_seconds(attempts: int) -> float:
    """Delay before retry number `attempts` (1, 2, 4 ... capped at 5 minutes)."""
    return min(2.0 ** max(attempts - 1, 0), BACKOFF_MAX)


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    parked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


async def claim_batch(session: AsyncSession, worker_id: str, size: int) -> list[QueuedSignal]:
    """Take up to `size` due pending instances, oldest first, inside the caller's transaction.

    They stay locked until that transaction ends (Postgres: `FOR UPDATE SKIP LOCKED`, so another
    worker takes the next ones; SQLite: the claiming UPDATE takes the single write lock). If the
    process dies mid-batch the transaction rolls back and they are simply pending again.
    """
    now = utcnow()
    table = table_of(SignalInstance)
    wanted = (table.c.id, table.c.definition, table.c.raw, table.c.overrides, table.c.received_at)
    # The status inline, not a parameter: only then may a prepared (generic) plan, or SQLite, use the
    # partial index of pending instances in arrival order.
    due = (table.c.status == literal(SignalStatus.PENDING.value, literal_execute=True), table.c.next_attempt_at <= now,
           table.c.claimed_until.is_(None) | (table.c.claimed_until < now))
    if session.get_bind().dialect.name == "postgresql":  # a lock is enough: nothing to write yet
        query = select(*wanted).where(*due).order_by(table.c.received_at).limit(size)
        rows = (await session.execute(query.with_for_update(skip_locked=True))).all()
    else:
        oldest = select(table.c.id).where(*due).order_by(table.c.received_at).limit(size)
        rows = (await session.execute(update(table).where(table.c.id.in_(oldest.scalar_subquery()))
                                      .values(claimed_by=worker_id, claimed_until=now + LEASE)
                                      .returning(*wanted))).all()
    return sorted((QueuedSignal(*row) for row in rows), key=lambda q: q.received_at)


class SignalWorker:
    """Drains the signal queue until stopped. `wake()` makes it look at once (called on ingestion)."""

    def __init__(self, deps: Deps, *, processor: Processor = process_batch, worker_id: str | None = None) -> None:
        self.deps, self.processor = deps, processor
        self.sessions, self.config = deps.sessions, deps.config
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._cards_due = asyncio.Event()
        self._engine = deps.sessions.kw["bind"]
        self._sqlite = self._engine.dialect.name == "sqlite"

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"signal-worker-{self.worker_id}")
        self._sync_task = asyncio.create_task(self._sync_cards(), name=f"case-cards-{self.worker_id}")

    async def stop(self) -> None:
        """Finish the batch in hand, hand back claimed instances not started, and return."""
        self._stopping = True
        self._wake.set()
        self._cards_due.set()
        for task in (self._task, self._sync_task):
            if task is not None:
                await task
        self._task = self._sync_task = None
        await self._release()

    async def _sync_cards(self) -> None:
        """Card upkeep in its own task, so Slack latency never holds the queue up: new cases' cards
        (woken by the worker), cards that failed to post, and alert counts that are behind."""
        while not self._stopping:
            self._cards_due.clear()  # (before the round: a wake during it means another round)
            touched = 0
            try:
                touched = await sync_cards(self.deps)
                if any(d.workflow for d in self.deps.config.signals.definitions):
                    await deliver_due(self.deps)  # runs of the cases just opened, after their cards
            except Exception:  # Slack or the database is down: try again next round
                log.exception("case card sync failed")
            if touched:  # a round takes at most SYNC_BATCH cards: more may be waiting, look again at once
                continue
            if not self._stopping:
                try:
                    await asyncio.wait_for(self._cards_due.wait(), CARD_SYNC_EVERY)
                except TimeoutError:
                    pass

    async def _run(self) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once()
                if handled and self._sqlite:
                    # SQLite's write lock is not a fair queue: without a pause the worker would take it
                    # back at once, batch after batch, and starve HTTP ingestion and Slack handlers.
                    await asyncio.sleep(SQLITE_PAUSE)
            except Exception:  # the database or Slack is down: keep the loop alive and try again
                log.exception("signal worker iteration failed")
                handled = 0
            if not handled and not self._stopping:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many instances were handled.

        The batch is decided and written in one transaction (one commit: the costly part on both
        databases). If anything in it fails, each instance is retried alone in its own savepoint,
        so only the failing one is rolled back, and retried later with backoff.
        """
        async with write_gate(self._engine):
            return await self._run_batch()

    async def _run_batch(self) -> int:
        async with self.sessions() as session:
            instances = await claim_batch(session, self.worker_id, self.config.signals.worker_batch)
            if not instances:
                await session.commit()  # (SQLite: nothing claimed, but end the transaction)
                return 0
            now = utcnow()
            try:
                async with session.begin_nested():
                    outcomes = await self.processor(session, instances, self.config, now)
            except Exception:  # find the culprit: one instance at a time
                outcomes = {}
                for instance in batch_order(instances):
                    try:
                        async with session.begin_nested():
                            outcomes.update(await self.processor(session, [instance], self.config, now))
                    except Exception as exc:  # this instance only: retried later, the batch goes on
                        await self._failed(session, instance.id, exc)
            await session.commit()
        for outcome in outcomes.values():
            self.stats.processed += 1
            self.stats.outcomes[outcome.outcome] = self.stats.outcomes.get(outcome.outcome, 0) + 1
        if any(outcome.new_case for outcome in outcomes.values()):
            self._cards_due.set()  # the card task posts them
        return len(instances)

    async def _failed(self, session: AsyncSession, instance_id: str, exc: Exception) -> None:
        """Count a failed attempt in the batch's transaction: back off, or park after the last."""
        table = SQLModel.metadata.tables[SignalInstance.__tablename__]
        error = f"{type(exc).__name__}: {exc}"[:2000]
        attempts = (await session.execute(select(table.c.attempts).where(table.c.id == instance_id))).scalar_one() + 1
        parked = attempts >= self.config.signals.max_attempts
        await session.execute(update(table).where(table.c.id == instance_id).values(
            attempts=attempts, last_error=error, claimed_by=None, claimed_until=None,
            status=SignalStatus.PARKED if parked else SignalStatus.PENDING,
            next_attempt_at=utcnow() + timedelta(seconds=backoff_seconds(attempts))))
        self.stats.failed += 1
        if parked:
            self.stats.parked += 1
            log.error("signal %s parked after %s attempts: %s", instance_id, attempts, error)
        else:
            log.warning("signal %s failed (attempt %s), retrying: %s", instance_id, attempts, error)

    async def _release(self) -> None:
        """Hand back claimed-but-unprocessed instances so another process need not wait for the lease."""
        async with self.sessions() as session:
            await session.execute(update(SignalInstance)
                                  .where(col(SignalInstance.claimed_by) == self.worker_id, col(SignalInstance.status) == SignalStatus.PENDING)
                                  .values(claimed_by=None, claimed_until=None)
                                  .execution_options(synchronize_session=False))
            await session.commit()
