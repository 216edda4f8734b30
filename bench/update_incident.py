"""Benchmark: /dispatch-update-incident submit → every channel effect, through the Slack emulator.

One incident with a notification channel; each round the commander changes title and priority.
Effects awaited: the "what changed" message, the refreshed topic and the edited announcement.
Prints, at 0 ms and 100 ms injected Slack latency: submit ack p50/p99, submit → all effects
p50/p99, Slack calls per update and the sequential depth (effects time / latency).

    python bench/update_incident.py [--rounds 20] [--database-url postgresql+asyncpg://...]
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
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SetupState
from emulators.slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.models import Incident


async def new_view(emu, user, command, channel):
    before = set(emu.views)
    await emu.slash_command(user, command, channel=channel)
    return (await emu.wait_for(lambda: [v for v in emu.open_views(user) if v.id not in before], timeout=30))[-1]


async def one_update(emu, user, channel_id, feed, i: int) -> tuple[float, float, int]:
    view = await new_view(emu, user, "/dispatch-update-incident", channel_id)
    channel, feed_channel = emu.channels[channel_id], emu.channels[feed]
    title, priority = f"Checkout degraded (round {i})", ("Medium" if i % 2 else "Low")
    posted = len(channel.messages)
    calls = len(emu.calls)
    started = time.perf_counter()
    delivery = await emu.submit_view(user, view.id, {"title": title, "incident_priority": priority})
    await emu.wait_for(lambda: len(channel.messages) > posted and f"Priority: {priority}" in channel.topic
                       and title in str(feed_channel.messages[0].blocks), timeout=30, interval=0.001)
    return delivery.latency, time.perf_counter() - started, len(emu.calls) - calls


async def main(rounds: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu = SlackEmulator()
        await emu.start()
        try:
            alice = emu.add_user("alice", real_name="Alice Ops")
            general = emu.add_channel("general", members=[alice], bot_member=True)
            feed = emu.add_channel("incidents", members=[alice], bot_member=True)
            config = WarroomConfig.model_validate({"notification_channels": [{"name": "feed", "channel": feed}]})
            async with running_warroom(emu, url, config) as runtime:
                view = await new_view(emu, alice, "/dispatch-report-incident", general)
                await emu.submit_view(alice, view.id, {"title": "Checkout degraded", "description": "bench"})

                async def ready():
                    async with runtime.deps.sessions() as session:
                        row = (await session.execute(select(Incident))).scalar_one_or_none()
                    return row if row and row.setup_state == SetupState.READY and emu.channels[feed].messages else None

                incident = await emu.wait_for(ready, timeout=30)
                print(f"update-incident benchmark: {rounds} sequential updates, database {url.split(':')[0]}")
                print(f"{'slack latency':>14} {'submit ack p50/p99':>19} {'all effects p50/p99':>20} "
                      f"{'calls/update':>13} {'depth':>6}")
                for latency in (0.0, 0.1):
                    emu.faults.latency = latency
                    acks, effects, calls = [], [], []
                    for i in range(rounds):
                        a, e, c = await one_update(emu, alice, incident.channel_id, feed, i + (1 if latency else 0))
                        acks.append(a), effects.append(e), calls.append(c)
                    depth = f"{pct(effects, .5) / (latency * 1000):>6.1f}" if latency else f"{'-':>6}"
                    print(f"{latency * 1000:>11.0f} ms {pct(acks, .5):>8.1f}/{pct(acks, .99):<8.1f}ms "
                          f"{pct(effects, .5):>8.1f}/{pct(effects, .99):<8.1f}ms {sum(calls) / rounds:>13.1f} {depth}")
        finally:
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.database_url))
