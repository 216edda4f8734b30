"""Benchmark: one cost polling run over many active incidents, through the Slack emulator.

500 active incidents on an activity-based model, each with its own channel; 10,000 historic
messages (a tenth of them thread replies) already in those channels; then 200 new messages
(150 top-level, 50 replies in existing threads). Runs, at 0 and 100 ms injected Slack latency:

- cold: the first run, with no cursor (reads the whole history once);
- quiet: nothing new since the last run (no message event: Slack is not asked);
- incremental: after the 200 new messages, said through the emulator so the bot gets their events
  (the historic ones are put in the channels directly, as if said before the bot was there).

For each: Slack calls (history / replies), messages counted, wall time and the process's peak RSS
so far (bot and emulator share the process; a run that needs more memory than all before raises it).

    python bench/cost_poll.py [--incidents 500] [--history 10000] [--new 200] [--database-url …]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SetupState
from domain.cost_polling import PollStats, poll_costs
from emulators.slackemu import SlackEmulator
from emulators.slackemu.state import Message
from storage.cost_models import CostCursor, CostModelAssignment, ParticipantCost, ResponseCost
from storage.migrate import upgrade_async
from storage.models import Incident

CONFIG = {"costs": {
    "annual_employee_cost": 208000, "business_year_hours": 2080, "calls_per_run": 100_000,
    "models": [{"name": "chatty", "activities": [
        {"activity": "slack_channel_activity", "response_time_seconds": 300},
        {"activity": "slack_thread_activity", "response_time_seconds": 120}]}],
    "incident_types": {"Reliability": "chatty"},
}}


def say(emu: SlackEmulator, rng: random.Random, channel: str, users: list[str], *, reply_ratio: float) -> None:
    """One message by a person, straight into the emulator's channel (as if said while we were away)."""
    ch = emu.channels[channel]
    parents = [m for m in ch.messages if not m.thread_ts]
    user = rng.choice(users)
    if parents and rng.random() < reply_ratio:
        ch.messages.append(Message(emu.new_ts(), user, "reply", thread_ts=rng.choice(parents).ts))
    else:
        ch.messages.append(Message(emu.new_ts(), user, "update"))


async def post(emu: SlackEmulator, runtime, rng: random.Random, channel: str, users: list[str]) -> None:
    """One new message said now (the bot gets its event), a quarter of them replies in a thread."""
    ch = emu.channels[channel]
    parents = [m for m in ch.messages if not m.thread_ts]
    thread = rng.choice(parents).ts if parents and rng.random() < 0.25 else None
    await emu.post_message(rng.choice(users), channel, "new", thread_ts=thread)
    await runtime.registry.drain()


async def one_run(emu: SlackEmulator, deps) -> tuple[PollStats, int, int, float, float]:
    calls = len(emu.calls)
    started = time.perf_counter()
    stats = await poll_costs(deps)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the process's peak so far
    made = emu.calls[calls:]
    history = sum(1 for c in made if c.method == "conversations.history")
    replies = sum(1 for c in made if c.method == "conversations.replies")
    return stats, history, replies, elapsed, peak / 2**20


async def main(incidents: int, history: int, new: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu = SlackEmulator()
        await emu.start()
        try:
            people = [emu.add_user(f"responder{i}") for i in range(20)]
            general = emu.add_channel("general", members=people[:1], bot_member=True)
            async with running_warroom(emu, url, WarroomConfig.model_validate(CONFIG)) as runtime:
                view_before = set(emu.views)
                await emu.slash_command(people[0], "/dispatch-report-incident", channel=general)
                view = (await emu.wait_for(lambda: [v for v in emu.open_views(people[0]) if v.id not in view_before],
                                           timeout=30))[-1]
                await emu.submit_view(people[0], view.id, {"title": "Template", "description": "bench"})

                async def ready():
                    async with runtime.deps.sessions() as session:
                        row = (await session.execute(select(Incident))).scalar_one_or_none()
                    return row if row and row.setup_state == SetupState.READY else None

                template = await emu.wait_for(ready, timeout=30)
                channels = [template.channel_id or ""]
                async with runtime.deps.sessions() as session:  # the other incidents: copies with their own channel
                    base = template.model_dump(exclude={"id"})
                    for i in range(2, incidents + 1):
                        cid = emu.add_channel(f"inc-bench-{i}", members=people, bot_member=True)
                        channels.append(cid)
                        session.add(Incident(**{**base, "number": i, "name": f"INC-{i}", "channel_id": cid,
                                                "channel_name": f"inc-bench-{i}", "summary_message_ts": None,
                                                "idempotency_key": None}))
                    await session.commit()
                emu.channels[channels[0]].members.update(people)
                for _ in range(history):
                    say(emu, rng, rng.choice(channels), people, reply_ratio=0.1)

                db = url.split(":")[0]
                print(f"cost polling benchmark: {incidents} active incidents, {history:,} historic messages, "
                      f"{new} new; database {db}")
                print(f"{'latency':>8} {'run':>12} {'history':>8} {'replies':>8} {'calls':>6} {'counted':>8} "
                      f"{'time':>8} {'peak RSS MiB':>13}")
                for latency in (0.0, 0.1):
                    emu.faults.latency = latency
                    async with runtime.deps.sessions() as session:  # start cold: forget what was read
                        for table in (CostCursor, ResponseCost, ParticipantCost, CostModelAssignment):
                            await session.execute(delete(table))
                        await session.commit()
                    rows = [("cold", await one_run(emu, runtime.deps)), ("quiet", await one_run(emu, runtime.deps))]
                    for _ in range(new):
                        await post(emu, runtime, rng, rng.choice(channels), people)
                    rows.append((f"+{new} new", await one_run(emu, runtime.deps)))
                    for name, (stats, hist, repl, elapsed, peak) in rows:
                        print(f"{latency * 1000:>6.0f}ms {name:>12} {hist:>8} {repl:>8} {stats.calls:>6} "
                              f"{stats.messages:>8} {elapsed:>7.2f}s {peak:>13.0f}")
        finally:
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.history, args.new, args.database_url))
