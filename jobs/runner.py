"""Run one scheduled job once per interval across every process; a failing job never stops the others.

Each process's scheduler fires every job on its own clock (processes start at different times).
Before running, the runner claims in the database, in one atomic statement:

- the job's *interval slot*: time is cut into periods of the job's interval (a day, in the
  configured time zone, for daily jobs) and a slot runs at most once, whichever process fires
  first in it; a tick whose slot has run already is skipped;
- the job's *lease*, so two runs never overlap. It is heartbeated while the job runs, so a run
  may take as long as it needs while a process that died mid-run frees the job within `lease`.

Runs less than half an interval apart are skipped too: two processes whose ticks fall just either
side of a slot boundary do not run the job back to back. Every slot still runs (the tick one
interval after the last run always passes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from domain.core.deps import Deps
from storage.job_locks import acquire, extend, release
from storage.types import utcnow

log = logging.getLogger(__name__)
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
DEFAULT_LEASE = timedelta(seconds=60)

JobFunc = Callable[[Deps], Awaitable[object]]
Outcome = Literal["ran", "skipped", "failed"]


@dataclass(frozen=True)
class Interval:
    """How often a job runs, for its slot: every `period`, counted in `tz` (local days for daily jobs)."""

    period: timedelta
    tz: tzinfo = UTC

    def slot(self, now: datetime) -> int:
        """Index of the period `now` falls in (e.g. the local day number of a daily job)."""
        offset = now.astimezone(self.tz).utcoffset() or timedelta(0)
        return int((now.timestamp() + offset.total_seconds()) // self.period.total_seconds())


async def run_job(
    name: str, func: JobFunc, deps: Deps, *, holder: str = HOLDER, lease: timedelta = DEFAULT_LEASE,
    interval: Interval | None = None, now: datetime | None = None,
) -> Outcome:
    """Run `func` unless another process holds the job, or (with `interval`) ran it in this interval.

    Without `interval` (an operator's `jobs run`) only the lease is taken: it runs now. `now` is for
    tests that play ticks of several processes. Failures are logged and recorded.
    """
    now = now or utcnow()
    slot = interval.slot(now) if interval else None
    async with deps.sessions() as session:
        taken = await acquire(session, name, holder, lease, now=now, slot=slot,
                              min_gap=interval.period / 2 if interval else None)
    if not taken:
        log.debug("job %s ran in this interval or is running elsewhere; skipped", name)
        return "skipped"
    log.info("job %s running (slot %s)", name, slot)
    heartbeat = asyncio.create_task(_heartbeat(deps, name, holder, lease))
    error: str | None = None
    try:
        result = await func(deps)
        log.info("job %s done (slot %s): %s", name, slot, result)
    except asyncio.CancelledError:  # the process is stopping: free the job now, not when the lease runs out
        error = "cancelled: the process stopped during the run"
        raise
    except Exception as exc:  # one job's failure is recorded and never stops the scheduler
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("job %s failed", name)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        async with deps.sessions() as session:
            await release(session, name, holder, error)
    return "failed" if error else "ran"


async def _heartbeat(deps: Deps, name: str, holder: str, lease: timedelta) -> None:
    """Keep the lease while the job runs (a third of it between beats); a failed beat is retried."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            async with deps.sessions() as session:
                if not await extend(session, name, holder, lease):
                    log.warning("job %s: lease lost (another process may run it now)", name)
        except Exception:  # a database hiccup: the next beat tries again, the lease has slack
            log.warning("job %s: lease heartbeat failed", name, exc_info=True)
