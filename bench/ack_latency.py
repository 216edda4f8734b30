"""Benchmark: 50 concurrent incident reports through the Slack emulator.

Prints, at 0 ms and at 100 ms injected Slack latency:
- ack latency of the slash command and of the modal submission (p50/p99),
- report → channel-ready latency (submit sent → set-up state `ready` in the database, p50/p99),
- Slack calls per incident and the calls on the critical path (measured: ready time of a lone
  report at 100 ms latency divided by that latency).

    python bench/ack_latency.py [--reports 50] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.stats import pct
from bot.harness import running_warroom
from domain.response import setup as setup_flow
from slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.models import Incident

COMMAND = "/dispatch-report-incident"


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


async def run_round(emu: SlackEmulator, runtime, users: list[str], channel: str, latency: float) -> dict:
    emu.faults.latency = latency
    calls_before = len(emu.calls)
    commands = await asyncio.gather(*(emu.slash_command(u, COMMAND, channel=channel) for u in users))
    await emu.wait_for(lambda: all(emu.open_views(u) for u in users), timeout=30)
    views = {u: emu.open_views(u)[-1] for u in users}
    started: dict[str, float] = {}

    async def submit(user: str, i: int):
        view = views[user]
        started[view.id] = time.perf_counter()
        return await emu.submit_view(
            user, view.id, {"title": f"Bench incident {i} at {latency * 1000:.0f} ms", "description": "load test"}
        )

    submits = await asyncio.gather(*(submit(u, i) for i, u in enumerate(users)))
    ready = await _ready_times(runtime, started, time.perf_counter() + 120)
    return {
        "latency": latency,
        "command_ack": [d.latency for d in commands],
        "submit_ack": [d.latency for d in submits],
        "ready": list(ready.values()),
        "lost": len(users) - len(ready),
        "calls": len(emu.calls) - calls_before - len(users),  # minus views.open per report
    }


async def critical_path(emu: SlackEmulator, runtime, user: str, channel: str, latency: float = 0.1) -> float:
    """Sequential Slack round trips between submit and ready, for one report on its own."""
    result = await run_round(emu, runtime, [user], channel, latency)
    return result["ready"][0] / latency


async def main(reports: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    reporting_log = logging.getLogger(setup_flow.__name__)
    reporting_log.setLevel(logging.INFO)
    reporting_log.addHandler(READY)
    reporting_log.propagate = False  # the ready log is a measurement, not output
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu = SlackEmulator()
        await emu.start()
        try:
            users = [emu.add_user(f"user{i}", real_name=f"User {i}") for i in range(reports)]
            channel = emu.add_channel("general", members=users, bot_member=True)
            async with running_warroom(emu, url) as runtime:
                print(f"warroom ack/readiness benchmark: {reports} concurrent reports, database {url.split(':')[0]}")
                print(f"{'slack latency':>14} {'cmd ack p50/p99':>17} {'submit ack p50/p99':>19} "
                      f"{'ready p50/p99':>17} {'calls/incident':>15} {'lost':>5}")
                for latency in (0.0, 0.1):
                    r = await run_round(emu, runtime, users, channel, latency)
                    print(
                        f"{latency * 1000:>11.0f} ms "
                        f"{pct(r['command_ack'], .5):>7.1f}/{pct(r['command_ack'], .99):<7.1f}ms "
                        f"{pct(r['submit_ack'], .5):>8.1f}/{pct(r['submit_ack'], .99):<7.1f}ms "
                        f"{pct(r['ready'], .5):>7.0f}/{pct(r['ready'], .99):<7.0f}ms "
                        f"{r['calls'] / reports:>15.1f} {r['lost']:>5}"
                    )
                depth = await critical_path(emu, runtime, users[0], channel)
                print(f"Slack calls on the critical path (lone report at 100 ms latency): {depth:.1f}")
        finally:
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.database_url))
