"""Benchmark: 50 concurrent incident reports through the Slack emulator.

Prints, at 0 ms and at 100 ms injected Slack latency:
- ack latency of the slash command and of the modal submission (p50/p99),
- report → channel-ready latency (submit sent → set-up state `ready` in the database, p50/p99),
- Slack calls per incident, and for a lone report at 100 ms latency (the process warm): its ready time in
  latencies and the longest chain of Slack calls each made after the previous one answered.

    python bench/ack_latency.py [--reports 50] [--database-url postgres|postgresql+asyncpg://...] [--separate-emulator] [--profile] [--statements]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.db_statements import counted_statements, describe
from bench.emulator_process import emulator_process
from bench.report_burst import report_burst
from bench.signals import fresh_postgres
from bench.stats import pct
from bot.harness import running_warroom
from bot.memory import settle_after_start
from domain.response import setup as setup_flow
from emulators.slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.models import Incident


class ReadyLog(logging.Handler):
    """Time at which each incident's set-up logged "ready" (no database polling to skew figures)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ready_at: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("incident %s ready"):
            self.ready_at[record.args[0]] = time.perf_counter()


READY = ReadyLog()


async def _ready_times(runtime, started: dict[str, float], deadline: float) -> dict[str, float]:
    """Seconds from submit to ready, per submitted view id."""
    names: dict[str, str] = {}
    while len(names) < len(started) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        async with runtime.deps.sessions() as session:
            query = select(Incident.idempotency_key, Incident.name).where(Incident.idempotency_key.in_(list(started)))
            names = dict((await session.execute(query)).all())
    while time.perf_counter() < deadline and not all(names.get(k) in READY.ready_at for k in started):
        await asyncio.sleep(0.05)
    return {k: READY.ready_at[names[k]] - t for k, t in started.items() if names.get(k) in READY.ready_at}


async def run_round(emu, runtime, users: list[str], channel: str, latency: float) -> dict:
    """One burst: in this process, or in the emulator's own (`RemoteEmulator.ask`)."""
    if isinstance(emu, SlackEmulator):
        calls_before = len(emu.calls)
        burst = await report_burst(emu, users, channel, latency)
        calls = lambda: len(emu.calls)  # noqa: E731
    else:
        calls_before = await emu.ask({"op": "calls"})
        burst = await emu.ask({"op": "burst", "latency": latency})

        async def calls():
            return await emu.ask({"op": "calls"})
    ready = await _ready_times(runtime, burst["started"], time.perf_counter() + 120)
    after = calls()
    after = await after if asyncio.iscoroutine(after) else after
    return {
        "latency": latency,
        "command_ack": burst["command_ack"],
        "submit_ack": burst["submit_ack"],
        "kept_open": burst["kept_open"],
        "ready": list(ready.values()),
        "lost": len(users) - len(ready),
        "calls": after - calls_before - len(users),  # minus views.open per report
    }


async def critical_path(url: str, latency: float = 0.1) -> tuple[float, float, int]:
    """A report on its own at `latency` (in-process emulator: the lone report needs one person), once the process
    is warm (a first report before it): (submit → ready in seconds, that in latencies, the longest chain of Slack
    calls each made after the previous one answered, from the emulator's log)."""
    emu = SlackEmulator()
    await emu.start()
    try:
        user = emu.add_user("lone", real_name="Lone Reporter")
        channel = emu.add_channel("lone", members=[user])
        async with running_warroom(emu, url) as warroom:
            await run_round(emu, warroom, [user], channel, latency)  # warm: connections, compiled statements
            first = len(emu.calls)
            result = await run_round(emu, warroom, [user], channel, latency)
            calls = [(c.ts - c.duration, c.ts) for c in emu.calls[first:] if c.method != "views.open"]
    finally:
        await emu.stop()
    return result["ready"][0], result["ready"][0] / latency, _longest_chain(calls)


def _longest_chain(calls: list[tuple[float, float]]) -> int:
    """Most calls (start, end) that ran one after another, each starting once the one before had ended."""
    ordered, depth = sorted(calls), []
    for start, _ in ordered:
        depth.append(1 + max((d for d, (_, end) in zip(depth, ordered, strict=False) if end <= start), default=0))
    return max(depth, default=0)


@asynccontextmanager
async def slack(reports: int, separate: bool) -> AsyncIterator[tuple[Any, list[str], str]]:
    """(emulator, its people, the channel they report from): in this process or its own."""
    if separate:
        async with emulator_process(["general"], users=reports) as remote:
            yield remote, remote.users, remote.channels["general"]
        return
    emu = SlackEmulator()
    await emu.start()
    try:
        users = [emu.add_user(f"user{i}", real_name=f"User {i}") for i in range(reports)]
        yield emu, users, emu.add_channel("general", members=users, bot_member=True)
    finally:
        await emu.stop()


async def main(reports: int, database_url: str | None, setup_concurrency: int | None = None,
               separate: bool = False, profile: bool = False, statements: bool = False) -> None:
    logging.basicConfig(level=logging.WARNING)
    reporting_log = logging.getLogger(setup_flow.__name__)
    reporting_log.setLevel(logging.INFO)
    reporting_log.addHandler(READY)
    reporting_log.propagate = False  # the ready log is a measurement, not output
    with tempfile.TemporaryDirectory() as tmp:
        if database_url == "postgres":  # a fresh database: view ids of a new emulator repeat the last run's
            database_url = await fresh_postgres("warroom_bench_ack")
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        async with slack(reports, separate) as (emu, users, channel):
            async with running_warroom(emu, url) as runtime:
                if not os.environ.get("BENCH_GC_DEFAULT"):
                    settle_after_start()  # as `python -m bot` does once started
                if setup_concurrency:
                    runtime.deps.setup_slots = asyncio.Semaphore(setup_concurrency)
                where = "emulator in its own process" if separate else "emulator in-process"
                print(f"warroom ack/readiness benchmark: {reports} concurrent reports, database {url.split(':')[0]}, "
                      f"{where}")
                print(f"{'slack latency':>14} {'cmd ack p50/p99':>17} {'submit ack p50/p99':>19} "
                      f"{'ready p50/p99':>17} {'calls/incident':>15} {'kept open':>9} {'lost':>5} {'CPU/incident':>13}")
                profiler = cProfile.Profile() if profile else None
                for latency in (0.0, 0.1):
                    cpu = time.process_time()
                    if profiler and not latency:
                        profiler.enable()
                    # Counting hooks every statement: only when asked, so that it never weighs on the figures.
                    counting = counted_statements([runtime.engine, runtime.ack_engine]) if statements else nullcontext(
                        Counter[str]())
                    with counting as seen:
                        r = await run_round(emu, runtime, users, channel, latency)
                    if profiler and not latency:
                        profiler.disable()
                    cpu = (time.process_time() - cpu) / reports * 1000
                    print(
                        f"{latency * 1000:>11.0f} ms "
                        f"{pct(r['command_ack'], .5):>7.1f}/{pct(r['command_ack'], .99):<7.1f}ms "
                        f"{pct(r['submit_ack'], .5):>8.1f}/{pct(r['submit_ack'], .99):<7.1f}ms "
                        f"{pct(r['ready'], .5):>7.0f}/{pct(r['ready'], .99):<7.0f}ms "
                        f"{r['calls'] / reports:>15.1f} {r['kept_open']:>9} {r['lost']:>5} {cpu:>10.1f} ms"
                    )
                    if statements:  # polling for readiness adds one SELECT incident per 50 ms
                        print(f"{'':>14} {describe(seen, reports, 'incident')}")
                if profiler and os.environ.get("BENCH_PROFILE_OUT"):
                    profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])  # for a closer look (pstats, snakeviz)
                if profiler:
                    pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
                        os.environ.get("BENCH_FILTER", ""), 35)
        ready, latencies, chain = await critical_path(url)
        print(f"A lone report at 100 ms latency: ready in {ready * 1000:.0f} ms = {latencies:.1f} latencies; "
              f"{chain} Slack calls in a row on its critical path")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file; `postgres`: a fresh database on 127.0.0.1:5432")
    parser.add_argument("--setup-concurrency", type=int, default=None,
                        help="set-ups running at once (default: the built-in SETUP_CONCURRENCY)")
    parser.add_argument("--separate-emulator", action="store_true",
                        help="run the Slack emulator (and the people's clicks) in a process of its own")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the 0 ms round and print the top costs (BENCH_SORT, BENCH_FILTER)")
    parser.add_argument("--statements", action="store_true",
                        help="print the database statements per incident, by verb and table")
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.database_url, args.setup_concurrency, args.separate_emulator, args.profile,
                     args.statements))
