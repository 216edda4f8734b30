"""Jobs run under a lease shared by every process; failures are recorded and isolated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.config.loader import load_config
from domain.core.deps import Deps
from jobs import SCHEDULE
from jobs.runner import Interval, run_job
from storage.job_locks import acquire
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


async def test_a_run_cancelled_by_a_stopping_process_frees_the_job_at_once(session_factory):
    deps = deps_for(session_factory)
    started = asyncio.Event()

    async def long(_: Deps) -> None:
        started.set()
        await asyncio.sleep(60)

    run = asyncio.create_task(run_job("digest", long, deps, holder="host-a:1"))
    await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    async with session_factory() as session:
        row = await session.get(JobRun, "digest")
    assert row.locked_until is None and row.last_error.startswith("cancelled")

    async def fine(_: Deps) -> str:
        return "ok"

    assert await run_job("digest", fine, deps, holder="host-b:2") == "ran", "the other process need not wait 60 s"


async def test_a_dead_holders_lease_expires(session_factory):
    deps = deps_for(session_factory)

    async def fine(_: Deps) -> None:
        return None

    lease = timedelta(seconds=1)  # long enough for a loaded machine to try once while it is held
    async with session_factory() as session:  # a process took the job, then died (no heartbeat)
        assert await acquire(session, "sweep", "dead:1", lease)
    assert await run_job("sweep", fine, deps, holder="alive:2") == "skipped"
    await asyncio.sleep(lease.total_seconds() + 0.1)
    assert await run_job("sweep", fine, deps, holder="alive:2") == "ran"


@pytest.mark.parametrize("name", list(SCHEDULE))
async def test_every_job_runs_once_per_interval_across_processes_started_apart(session_factory, name):
    """Two processes fire the job on their own clocks, the second started 26 s (daily: 7 min) later;
    over five intervals the job runs once per interval, never twice in one, never skipped."""
    deps = deps_for(session_factory)
    job = SCHEDULE[name]
    interval = job.interval(deps, name)
    runs: list[tuple[str, datetime]] = []

    def counting(holder: str, at: datetime):
        async def func(_: Deps) -> None:
            runs.append((holder, at))
        return func

    start = datetime(2026, 11, 30, 8, 59, 50, tzinfo=UTC)
    stagger = timedelta(minutes=7) if job.trigger == "cron" else timedelta(seconds=26)
    ticks = sorted([(start + k * interval.period, "proc-a") for k in range(5)]
                   + [(start + stagger + k * interval.period, "proc-b") for k in range(5)])
    for at, holder in ticks:
        await run_job(name, counting(holder, at), deps, holder=holder, interval=interval, now=at)
    slots = [interval.slot(at) for _, at in runs]
    assert len(slots) == len(set(slots)), f"{name} ran twice in one interval: {runs}"
    assert len(runs) >= 5 and slots == list(range(slots[0], slots[0] + len(slots))), f"{name} skipped one: {runs}"
    # Two processes ticking at the same instant: one runs it.
    same = start + 10 * interval.period
    outcomes = await asyncio.gather(*(run_job(name, counting(h, same), deps, holder=h, interval=interval, now=same)
                                      for h in ("proc-a", "proc-b")))
    assert sorted(outcomes) == ["ran", "skipped"]


async def test_a_daily_slot_is_a_local_day():
    paris = Interval(timedelta(days=1), ZoneInfo("Europe/Paris"))
    late = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    assert paris.slot(late) == paris.slot(late - timedelta(hours=23))
    assert paris.slot(late + timedelta(hours=1)) == paris.slot(late) + 1  # 00:30 in Paris: the next day


async def test_a_long_run_keeps_its_lease_by_heartbeat(session_factory):
    deps = deps_for(session_factory)
    lease = timedelta(seconds=0.6)
    started = asyncio.Event()

    async def long(_: Deps) -> None:
        started.set()
        await asyncio.sleep(1.5)

    running = asyncio.create_task(run_job("long", long, deps, holder="alive:1", lease=lease))
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(1.0)  # past the lease: only the heartbeat keeps it
    assert await run_job("long", long, deps, holder="other:2") == "skipped"
    assert await running == "ran"
