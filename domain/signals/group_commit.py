"""Group commit for signal ingestion: posts arriving together are stored by one INSERT and one COMMIT.

Every caller still gets its answer only after its own row is committed (durable before the 202);
while one flush runs, the next requests queue up and go in the following flush. Commits, not
inserts, are what a database does one at a time, so this multiplies the rate at no cost to a
lone request (a flush starts at once when none is running).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.signals.ingest import Submission, rows, store_instances
from storage.db import write_gate
from storage.signal_store import insert_pending_postgres
from storage.types import utcnow

log = logging.getLogger(__name__)


class GroupCommitter:
    """`await store(submission)` -> created? Batches of up to `max_batch`, `flushers` flushes at a time.

    Each flusher keeps its own connection between flushes: a pool check-out (with its liveness
    ping) costs more round trips than the insert itself, and under load every round trip waits
    for a turn of the busy event loop. `close()` hands them back.
    """

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 500, flushers: int = 2) -> None:
        self.engine, self.max_batch, self.flushers = engine, max_batch, flushers
        self._queue: list[tuple[Submission, asyncio.Future]] = []
        self._running = 0
        self._tasks: set[asyncio.Task] = set()
        self._idle: list[AsyncConnection] = []

    async def close(self) -> None:
        """Wait for flushes in progress, then release the kept connections."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        while self._idle:
            await self._idle.pop().close()

    async def store(self, submission: Submission) -> bool:
        """Store `submission` (committed on return); False when its id was already stored."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((submission, future))
        if self._running < self.flushers:
            self._running += 1
            task = asyncio.create_task(self._flush_loop())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush_loop(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
                await self._flush(batch)
        finally:
            self._running -= 1

    async def _flush(self, batch: list[tuple[Submission, asyncio.Future]]) -> None:
        first: dict[str, Submission] = {}
        for submission, _ in batch:
            first.setdefault(submission.id, submission)
        try:
            created = await self._insert(list(first.values()))
        except Exception as exc:  # one bad row must not fail its neighbours: store them one by one
            if len(first) > 1:
                for submission, future in batch:
                    await self._flush([(submission, future)])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for submission, future in batch:
            if future.done():
                continue
            # Within one batch the same id twice: the first caller created it, the others are duplicates.
            is_first = first.get(submission.id) is submission and submission.id in created
            future.set_result(is_first)
            if is_first:
                first.pop(submission.id)

    async def _insert(self, submissions: list[Submission]) -> set[str]:
        kept = bool(self._idle)
        conn = self._idle.pop() if kept else await self.engine.connect()
        try:
            if conn.dialect.name == "postgresql":
                created = await insert_pending_postgres(conn, rows(submissions), utcnow())
            else:
                async with write_gate(self.engine), conn.begin():
                    created = await store_instances(conn, submissions)
        except Exception:
            await conn.close()
            if kept:  # a kept connection may have died meanwhile (database restart): once more, fresh
                return await self._insert(submissions)
            raise
        self._idle.append(conn)
        return created
