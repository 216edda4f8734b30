"""The signal worker: claims stored instances in batches, processes each in its own transaction,
then publishes new case cards and catches up on lagging ones.

Several processes may run a worker on one Postgres database: claims use `FOR UPDATE SKIP LOCKED`
and a lease, and the final status change is guarded, so no instance is processed twice. On
SQLite the single-writer lock makes the claim statement exclusive. A failing instance is
retried with exponential backoff and parked after `signals.max_attempts` — it never blocks others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.cases.cards import publish_case, sync_cards
from domain.config import WarroomConfig
from domain.ports import Ports
from domain.signals.process import Outcome, process_instance
from storage.signal_models import PARKED, PENDING, PROCESSED, SignalInstance
from storage.types import utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BACKOFF_MAX = 300.0
IDLE_POLL = 1.0  # seconds between polls when nothing woke the worker (other processes' signals)
CARD_SYNC_EVERY = 1.0

Processor = Callable[[AsyncSession, SignalInstance, WarroomConfig, object], Awaitable[Outcome]]


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
    due = (select(SignalInstance.id)
           .where(SignalInstance.status == PENDING, SignalInstance.next_attempt_at <= now,
                  (SignalInstance.claimed_until.is_(None)) | (SignalInstance.claimed_until < now))
           .order_by(SignalInstance.received_at).limit(size))
    async with sessions() as session:
        if session.bind.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        result = await session.execute(
            update(SignalInstance).where(SignalInstance.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker_id, claimed_until=now + LEASE)
            .returning(SignalInstance.id, SignalInstance.received_at)
            .execution_options(synchronize_session=False))
        rows = sorted(result.all(), key=lambda r: r[1])
        await session.commit()
    return [r[0] for r in rows]


class SignalWorker:
    """Drains the signal queue until stopped. `wake()` makes it look at once (called on ingestion)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ports: Ports, config: WarroomConfig,
                 *, processor: Processor = process_instance, worker_id: str | None = None) -> None:
        self.sessions, self.ports, self.config, self.processor = sessions, ports, config, processor
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._last_sync = 0.0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"signal-worker-{self.worker_id}")

    async def stop(self) -> None:
        """Finish the instance in hand, hand back the rest of the batch, and return."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self._release()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                handled = await self.run_once()
                if loop.time() - self._last_sync >= CARD_SYNC_EVERY:
                    self._last_sync = loop.time()
                    await sync_cards(self.sessions, self.ports, self.config)
            except Exception:  # the database or Slack is down: keep the loop alive and try again
                log.exception("signal worker iteration failed")
                handled = 0
            if not handled and not self._stopping:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
                except asyncio.TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many instances were handled.

        The batch is one transaction (one commit, the costly part on both databases) with a
        savepoint per instance, so a failing instance is rolled back alone and retried later.
        Instances are taken in (definition, received) order: per-definition locks are then always
        acquired in the same order by every worker, which rules out deadlocks between them.
        """
        ids = await claim_batch(self.sessions, self.worker_id, self.config.signals.worker_batch)
        if not ids:
            return 0
        now = utcnow()
        done: list[Outcome] = []
        failures: list[tuple[str, Exception]] = []
        async with self.sessions() as session:
            instances = (await session.execute(
                select(SignalInstance).where(SignalInstance.id.in_(ids), SignalInstance.status == PENDING,
                                             SignalInstance.claimed_by == self.worker_id)
                .order_by(SignalInstance.definition, SignalInstance.received_at))).scalars().all()
            for instance in instances:
                if self._stopping:
                    break
                try:
                    async with session.begin_nested():
                        outcome = await self.processor(session, instance, self.config, now)
                        await session.execute(
                            update(SignalInstance).where(SignalInstance.id == instance.id)
                            .values(status=PROCESSED, processed_at=now, outcome=outcome.outcome,
                                    case_id=outcome.case_id, filter_name=outcome.filter_name,
                                    claimed_by=None, claimed_until=None, last_error=None)
                            .execution_options(synchronize_session=False))
                    done.append(outcome)
                except Exception as exc:  # this instance only: retried later, the batch goes on
                    failures.append((instance.id, exc))
            await session.commit()
        for instance_id, exc in failures:
            async with self.sessions() as session:
                await self._failed(session, instance_id, exc)
        for outcome in done:
            self.stats.processed += 1
            self.stats.outcomes[outcome.outcome] = self.stats.outcomes.get(outcome.outcome, 0) + 1
        for outcome in done:
            if outcome.new_case:
                await publish_case(self.sessions, outcome.case_id, self.ports, self.config)
        return len(ids)

    async def _failed(self, session: AsyncSession, instance_id: str, exc: Exception) -> None:
        instance = await session.get(SignalInstance, instance_id)
        if instance is None:
            return
        attempts = instance.attempts + 1
        parked = attempts >= self.config.signals.max_attempts
        instance.attempts, instance.last_error = attempts, f"{type(exc).__name__}: {exc}"[:2000]
        instance.claimed_by, instance.claimed_until = None, None
        instance.status = PARKED if parked else PENDING
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
                                  .where(SignalInstance.claimed_by == self.worker_id, SignalInstance.status == PENDING)
                                  .values(claimed_by=None, claimed_until=None)
                                  .execution_options(synchronize_session=False))
            await session.commit()
