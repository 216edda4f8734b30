"""Jobs run under a lease shared by every process; failures are recorded and isolated."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.config.loader import load_config
from domain.core.deps import Deps
from jobs.runner import run_job
from storage.job_models import JobRun


def deps_for(session_factory) -> Deps:
    return Deps(sessions=session_factory, config=load_config(None), ports=None)  # type: ignore[arg-type]


async def test_two_processes_never_run_the_same_job_at_once(session_factory):
    deps = deps_for(session_factory)
    running, peak, ran = 0, 0, []

    async def slow(_: Deps) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.2)
        ran.append(1)
        running -= 1

    outcomes = await asyncio.gather(
        run_job("digest", slow, deps, holder="host-a:1"), run_job("digest", slow, deps, holder="host-b:2")
    )
    assert sorted(outcomes) == ["ran", "skipped"]
    assert peak == 1 and len(ran) == 1
    # Once released, the other process can run it.
    assert await run_job("digest", slow, deps, holder="host-b:2") == "ran"


async def test_a_failing_job_is_recorded_and_does_not_stop_others(session_factory):
    deps = deps_for(session_factory)

    async def boom(_: Deps) -> None:
        raise RuntimeError("Slack is down")

    async def fine(_: Deps) -> str:
        return "ok"

    assert await run_job("boom", boom, deps) == "failed"
    assert await run_job("fine", fine, deps) == "ran"
    async with session_factory() as session:
        boom_row = await session.get(JobRun, "boom")
        fine_row = await session.get(JobRun, "fine")
    assert boom_row.last_error == "RuntimeError: Slack is down" and boom_row.locked_until is None
    assert fine_row.last_error is None and fine_row.runs == 1
    assert await run_job("boom", fine, deps) == "ran", "a failed run leaves the job free"


async def test_a_dead_holders_lease_expires(session_factory):
    deps = deps_for(session_factory)

    async def fine(_: Deps) -> None:
        return None

    lease = timedelta(seconds=1)  # long enough for a loaded machine to try once while it is held
    started = asyncio.Event()

    async def hang(_: Deps) -> None:
        started.set()
        await asyncio.sleep(30)

    stuck = asyncio.create_task(run_job("sweep", hang, deps, holder="dead:1", lease=lease))
    await asyncio.wait_for(started.wait(), 10)
    assert await run_job("sweep", fine, deps, holder="alive:2") == "skipped"
    await asyncio.sleep(lease.total_seconds() + 0.1)
    assert await run_job("sweep", fine, deps, holder="alive:2") == "ran"
    stuck.cancel()
