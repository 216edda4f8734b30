"""Benchmark: ack latency while the AI is slow. Same run, two phases through the Slack emulator:

1. AI idle: rounds of incident commands (/dispatch-timeline, /dispatch-list-incidents) by every user at once;
2. AI busy: every user runs /dispatch-summary and the commander clicks *Draft with AI* on the tactical form,
   the AI emulator answering each in 5 s; once all those calls wait on it, the same rounds run again (a batch
   during which the first answer arrived is not counted, and ends the phase).

Prints ack p50/p99 of the commands in both phases (and their ratio), the acks of /dispatch-summary and of the
Draft clicks themselves, and how long the read-ins took to arrive.

    python bench/ai_ack.py [--users 10] [--rounds 8] [--reps 3] [--ai-latency 5] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import pct
from bot.harness import running_warroom
from domain.config.ai import AIConfig
from domain.config.schema import WarroomConfig
from emulators.openaiemu import OpenAIEmulator
from emulators.slackemu import SlackEmulator
from storage.migrate import upgrade_async

KEY_ENV = "WARROOM_BENCH_AI_KEY"
PROBES = ("/dispatch-timeline", "/dispatch-list-incidents")  # both answer ephemerally


async def rounds(emu: SlackEmulator, users: list[str], channel: str, count: int,
                 still: Callable[[], bool] = lambda: True) -> list[float]:
    """`count` rounds of every user running each probe command at once; each round's work is finished
    (not only acked) before the next, so acks are measured against the same load in both phases."""
    acks: list[float] = []
    for _ in range(count):
        for command in PROBES:
            before = len(emu.ephemerals)
            done = await asyncio.gather(*(emu.slash_command(u, command, channel=channel) for u in users))
            await emu.wait_for(lambda before=before: len(emu.ephemerals) >= before + len(users), timeout=30)
            if not still():  # the condition ended during this batch: its acks do not count, and we stop
                return acks
            acks += [d.latency for d in done]
    return acks


async def main(users_n: int, round_n: int, reps: int, ai_latency: float, database_url: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    if os.environ.get("BENCH_SLOW_CALLBACKS"):  # name what holds the event loop for more than 50 ms
        asyncio.get_running_loop().set_debug(True)
        asyncio.get_running_loop().slow_callback_duration = 0.05
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu, ai = SlackEmulator(), OpenAIEmulator(latency=ai_latency)
        await emu.start()
        await ai.start()
        os.environ[KEY_ENV] = ai.api_key
        config = WarroomConfig(ai=AIConfig(base_url=ai.base_url, api_key_env=KEY_ENV, timeout=ai_latency + 10,
                                           max_retries=0))
        try:
            users = [emu.add_user(f"user{i}", real_name=f"User {i}") for i in range(users_n)]
            general = emu.add_channel("general", members=users, bot_member=True)
            async with running_warroom(emu, url, config) as runtime:
                await emu.slash_command(users[0], "/dispatch-report-incident", channel=general)
                view = (await emu.wait_for(lambda: emu.open_views(users[0])))[-1]
                await emu.submit_view(users[0], view.id, {"title": "Bench incident", "description": "AI bench"})
                channel = (await emu.wait_for(lambda: [c for c in emu.channels.values() if c.name.startswith("inc-")]))[0]
                await emu.wait_for(lambda: channel.topic, timeout=30)
                for u in users[1:]:
                    await emu.join(u, channel.id)
                await runtime.registry.drain()
                await rounds(emu, users, channel.id, 1)  # warm-up
                idle: list[float] = []
                busy: list[float] = []
                summary_acks: list[float] = []
                click_acks: list[float] = []
                answered_in: list[float] = []
                overlap: list[str] = []
                first: list[float] = []
                for rep in range(reps + 1):  # alternate, so a change in the machine's load hits both phases alike
                    # (rep 0, the process's first AI burst, is shown apart: it pays one-time costs)
                    if rep:
                        idle += await rounds(emu, users, channel.id, round_n)
                    await emu.slash_command(users[0], "/dispatch-report-tactical", channel=channel.id)  # the commander
                    form = (await emu.wait_for(lambda: [v for v in emu.open_views(users[0])
                                                        if v.callback_id == "write_report"], timeout=30))[-1]
                    before = len([e for e in emu.ephemerals if "Read-in" in e["text"]])
                    asked = time.perf_counter()
                    summaries = await asyncio.gather(*(emu.slash_command(u, "/dispatch-summary", channel=channel.id)
                                                       for u in users))
                    click = await emu.click(users[0], "report_draft_ai", view_id=form.id)
                    summary_acks += [d.latency for d in summaries]
                    click_acks.append(click.latency)
                    calls = users_n + 1
                    await emu.wait_for(lambda calls=calls: ai.waiting == calls, timeout=ai_latency + 30)
                    waiting_from = time.perf_counter()
                    these = await rounds(emu, users, channel.id, round_n, lambda calls=calls: ai.waiting == calls)
                    if not rep:
                        first = these
                        await emu.wait_for(lambda before=before: len([e for e in emu.ephemerals if "Read-in" in e["text"]])
                                           >= before + users_n, timeout=ai_latency * 4 + 30)
                        await runtime.registry.drain()
                        await emu.close_view(users[0], form.id)
                        continue
                    busy += these
                    overlap.append(f"{time.perf_counter() - waiting_from:.1f} s with {calls} waiting, "
                                   f"{ai.waiting} still at the end, p99 {pct(these, .99):.0f} ms")
                    await emu.wait_for(lambda before=before: len([e for e in emu.ephemerals if "Read-in" in e["text"]])
                                       >= before + users_n, timeout=ai_latency * 4 + 30)
                    answered_in.append(time.perf_counter() - asked)
                    await runtime.registry.drain()
                    await emu.close_view(users[0], form.id)
                print(f"warroom ack latency with a slow AI: {users_n} users, {reps} alternations, database "
                      f"{url.split(':')[0]}, AI answering in {ai_latency:g} s")
                print(f"  AI idle : {len(idle):>4} command acks  p50 {pct(idle, .5):6.1f} ms  p99 {pct(idle, .99):6.1f} ms")
                print(f"  AI busy : {len(busy):>4} command acks  p50 {pct(busy, .5):6.1f} ms  p99 {pct(busy, .99):6.1f} ms")
                print(f"  p99 busy/idle {pct(busy, .99) / pct(idle, .99):.2f}, p50 busy/idle {pct(busy, .5) / pct(idle, .5):.2f}")
                print(f"  busy phases: {'; '.join(overlap)}")
                print(f"  (the process's first AI burst, not counted above: {len(first)} acks p50 {pct(first, .5):.1f} ms "
                      f"p99 {pct(first, .99):.1f} ms)")
                print(f"  /dispatch-summary acks p50 {pct(summary_acks, .5):.1f} ms p99 {pct(summary_acks, .99):.1f} ms; "
                      f"Draft-with-AI click acks max {max(click_acks) * 1000:.1f} ms; read-ins all answered within "
                      f"{max(answered_in):.1f} s of being asked; {len(ai.requests)} AI requests")
        finally:
            await ai.stop()
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--ai-latency", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds, args.reps, args.ai_latency, args.database_url))
