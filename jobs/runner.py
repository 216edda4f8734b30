"""Run one scheduled job under its cross-process lease; a failing job never stops the others."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal

from domain.core.deps import Deps
from storage.job_locks import acquire, release

log = logging.getLogger(__name__)
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
DEFAULT_LEASE = timedelta(minutes=10)

JobFunc = Callable[[Deps], Awaitable[object]]
Outcome = Literal["ran", "skipped", "failed"]


async def run_job(
    name: str, func: JobFunc, deps: Deps, *, holder: str = HOLDER, lease: timedelta = DEFAULT_LEASE,
    min_gap: timedelta | None = None,
) -> Outcome:
    """Run `func` unless another process holds the job (or ran it within `min_gap`); log and record failures."""
    async with deps.sessions() as session:
        if not await acquire(session, name, holder, lease, min_gap):
            log.debug("job %s is running elsewhere; skipped", name)
            return "skipped"
    error: str | None = None
    try:
        result = await func(deps)
        log.info("job %s done: %s", name, result)
    except Exception as exc:  # one job's failure is recorded and never stops the scheduler
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("job %s failed", name)
    async with deps.sessions() as session:
        await release(session, name, holder, error)
    return "failed" if error else "ran"
