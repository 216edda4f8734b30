"""Benchmark: the bot's footprint as a real process (`python -m bot`), on SQLite and on Postgres.

The Slack emulator and the load run in this (the bench) process; warroom runs on its own. Prints:
- start-up: process spawned → Socket Mode connected (wall time, and the CPU time the bot used by then),
- resident memory (VmRSS) idle after start, after N incidents reported through Slack, after M
  alerts posted to `POST /signals` (and processed), and after a pause, so growth shows.

    python bench/footprint.py [--incidents 1000] [--alerts 50000] [--database sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import yaml
from sqlalchemy import func, select

from bench.signals import TOKEN, bench_config, fresh_postgres, payload
from domain.core.vocabulary import SetupState, SignalStatus
from emulators.slackemu import SlackEmulator
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Incident
from storage.signal_models import SignalInstance

COMMAND = "/dispatch-report-incident"
AT_ONCE = 10  # reports in flight at a time: a steady stream, not a burst


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used: start-up cost that, unlike wall time, a busy machine hardly moves."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def count(sessions, query) -> int:
    async with sessions() as session:
        return (await session.execute(query)).scalar_one()


async def report_incidents(emu: SlackEmulator, sessions, users: list[str], channel: str, n: int) -> None:
    todo, kept_open = iter(range(n)), 0

    async def reporter(user: str) -> None:
        nonlocal kept_open
        for i in todo:
            view = None
            while view is None:  # a trigger that expired on a busy machine opens nothing: run it again
                await emu.slash_command(user, COMMAND, channel=channel)
                try:
                    view = await emu.wait_for(lambda: (emu.open_views(user) or [None])[-1], timeout=10)
                except TimeoutError:
                    continue
            # A modal kept open (the report could not be stored in time) is submitted again, as a person would.
            while ((await emu.submit_view(user, view.id, {"title": f"Footprint incident {i}", "description": "bench"})
                    ).ack_payload or {}).get("errors"):
                kept_open += 1
                await asyncio.sleep(1)

    await asyncio.gather(*(reporter(u) for u in users[:AT_ONCE]))
    if kept_open:
        print(f"  {kept_open} submissions kept open (storing took too long), submitted again")
    ready = select(func.count()).select_from(Incident).where(Incident.setup_state == SetupState.READY)
    deadline = time.perf_counter() + 600
    while await count(sessions, ready) < n and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)


async def post_alerts(url: str, sessions, n: int) -> None:
    rng = random.Random(11)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http:
        async def client() -> None:
            for _ in todo:
                async with http.post(url, data=payload(rng, max(1, n // 10)), headers=headers) as resp:
                    await resp.read()

        await asyncio.gather(*(client() for _ in range(16)))
    processed = select(func.count()).select_from(SignalInstance).where(SignalInstance.status == SignalStatus.PROCESSED)
    deadline = time.perf_counter() + 900
    while await count(sessions, processed) < n and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)


async def run(label: str, url: str, incidents: int, alerts: int) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    emu = SlackEmulator()
    await emu.start()
    users = [emu.add_user(f"user{i}", real_name=f"User {i}") for i in range(AT_ONCE)]
    channel = emu.add_channel("general", members=users)
    triage = emu.add_channel("sec-triage")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "warroom.yaml"
        config.write_text(yaml.safe_dump(json.loads(bench_config(triage).model_dump_json(exclude_unset=True))))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_", "HTTP_"))}
        env.update(SLACK_BOT_TOKEN=emu.bot_token, SLACK_APP_TOKEN=emu.app_token, SLACK_API_URL=emu.api_url,
                   DATABASE_URL=url, HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), WARROOM_CONFIG=str(config),
                   LOG_LEVEL="WARNING")
        began = time.perf_counter()
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env,
                                                   cwd=Path(__file__).resolve().parents[1])
        try:
            await emu.wait_connected(timeout=60)
            started = time.perf_counter() - began
            start_cpu = cpu_seconds(bot.pid)
            await asyncio.sleep(2)
            idle = rss_mb(bot.pid)
            await report_incidents(emu, sessions, users, channel, incidents)
            after_incidents = rss_mb(bot.pid)
            await post_alerts(f"http://127.0.0.1:{port}/signals", sessions, alerts)
            after_alerts = rss_mb(bot.pid)
            await asyncio.sleep(10)
            settled = rss_mb(bot.pid)
        finally:
            bot.terminate()
            await bot.wait()
            await emu.stop()
            await engine.dispose()
    print(f"{label}: start → Socket Mode connected {started:.2f} s ({start_cpu:.2f} s CPU); RSS idle {idle:.0f} MB, "
          f"after {incidents} incidents {after_incidents:.0f} MB, after {alerts} alerts {after_alerts:.0f} MB, "
          f"10 s later {settled:.0f} MB")


async def main(args: argparse.Namespace) -> None:
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await run("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.incidents, args.alerts)
    if args.database in ("postgres", "both"):
        await run("Postgres", await fresh_postgres("warroom_bench_footprint"), args.incidents, args.alerts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=50000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    asyncio.run(main(parser.parse_args()))
