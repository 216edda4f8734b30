"""The signal worker: claims stored instances in batches and decides each batch in one transaction,
while a separate card task posts new cases' cards and catches up on lagging ones.

Several processes may run a worker on one Postgres database: claims use `FOR UPDATE SKIP LOCKED`
and a lease, and claimed rows are locked while decided, so no instance is processed twice. On
SQLite the single-writer lock makes the claim statement exclusive. A failing instance is
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

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from domain.cases.cards import sync_cards
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.vocabulary import SignalStatus
from domain.signals.process import Outcome, batch_order, process_batch
from storage.db import write_gate
from storage.signal_models import SignalInstance
from storage.types import utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BACKOFF_MAX = 300.0
IDLE_POLL = 1.0  # seconds between polls when nothing woke the worker (other processes' signals)
CARD_SYNC_EVERY = 1.0
SQLITE_PAUSE = 0.05

Processor = Callable[[AsyncSession, list[SignalInstance], WarroomConfig, datetime], Awaitable[dict[str, Outcome]]]


def backoff_seconds(attempts: int) -> float:
    """Delay before retry number `attempts` (1, 2, 4 ... capped at 5 minutes)."""
    return min(2.0 ** max(attempts - 1, 0), BACKOFF_MAX)


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    parked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


async def claim_batch(sessions: async_sessionmaker[AsyncSession], worker_id: str, size: int) -> list[str]:
    """Take up to `size` due, unclaimed (or lease-expired) pending instances, oldest first; commits."""
    now = utcnow()
    due = (select(col(SignalInstance.id))
           .where(col(SignalInstance.status) == SignalStatus.PENDING, col(SignalInstance.next_attempt_at) <= now,
                  (col(SignalInstance.claimed_until).is_(None)) | (col(SignalInstance.claimed_until) < now))
           .order_by(col(SignalInstance.received_at)).limit(size))
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        result = await session.execute(
            update(SignalInstance).where(col(SignalInstance.id).in_(due.scalar_subquery()))
            .values(claimed_by=worker_id, claimed_until=now + LEASE)
            .returning(col(SignalInstance.id), col(SignalInstance.received_at))
            .execution_options(synchronize_session=False))
        rows = sorted(result.all(), key=lambda r: r[1])
        await session.commit()
    return [r[0] for r in rows]


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
            try:
                await sync_cards(self.deps)
            except Exception:  # Slack or the database is down: try again next round
                log.exception("case card sync failed")
            self._cards_due.clear()
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
        ids = await claim_batch(self.sessions, self.worker_id, self.config.signals.worker_batch)
        if not ids:
            return 0
        now = utcnow()
        failures: list[tuple[str, Exception]] = []
        async with self.sessions() as session:
            instances = await self._mine(session, ids)
            try:
                async with session.begin_nested():
                    outcomes = await self.processor(session, instances, self.config, now)
            except Exception:  # find the culprit: one instance at a time
                outcomes = {}
                for instance in batch_order(await self._mine(session, ids)):
                    try:
                        async with session.begin_nested():
                            outcomes.update(await self.processor(session, [instance], self.config, now))
                    except Exception as exc:  # this instance only: retried later, the batch goes on
                        failures.append((instance.id, exc))
            await session.commit()
        for instance_id, error in failures:
            async with self.sessions() as session:
                await self._failed(session, instance_id, error)
        for outcome in outcomes.values():
            self.stats.processed += 1
            self.stats.outcomes[outcome.outcome] = self.stats.outcomes.get(outcome.outcome, 0) + 1
        if any(outcome.new_case for outcome in outcomes.values()):
            self._cards_due.set()  # the card task posts them
        return len(ids)

    async def _mine(self, session: AsyncSession, ids: list[str]) -> list[SignalInstance]:
        """The claimed instances still ours, locked on Postgres so a worker whose lease check
        sees them as expired cannot take them while this transaction decides them."""
        query = select(SignalInstance).where(col(SignalInstance.id).in_(ids), col(SignalInstance.status) == SignalStatus.PENDING,
                                             col(SignalInstance.claimed_by) == self.worker_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return list((await session.execute(query.execution_options(populate_existing=True))).scalars())

    async def _failed(self, session: AsyncSession, instance_id: str, exc: Exception) -> None:
        instance = await session.get(SignalInstance, instance_id)
        if instance is None:
            return
        attempts = instance.attempts + 1
        parked = attempts >= self.config.signals.max_attempts
        instance.attempts, instance.last_error = attempts, f"{type(exc).__name__}: {exc}"[:2000]
        instance.claimed_by, instance.claimed_until = None, None
        instance.status = SignalStatus.PARKED if parked else SignalStatus.PENDING
        instance.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(attempts))
        await session.commit()
        self.stats.failed += 1
        if parked:
            self.stats.parked += 1
            log.error("signal %s parked after %s attempts: %s", instance_id, attempts, instance.last_error)
        else:
            log.warning("signal %s failed (attempt %s), retrying: %s", instance_id, attempts, instance.last_error)

    async def _release(self) -> None:
        """Hand back claimed-but-unprocessed instances so another process need not wait for the lease."""
        async with self.sessions() as session:
            await session.execute(update(SignalInstance)
                                  .where(col(SignalInstance.claimed_by) == self.worker_id, col(SignalInstance.status) == SignalStatus.PENDING)
                                  .values(claimed_by=None, claimed_until=None)
                                  .execution_options(synchronize_session=False))
            await session.commit()
