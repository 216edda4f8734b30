"""Benchmark: how long after a restart an interrupted incident set-up finishes.

The bot runs as a subprocess (`python -m bot`) against the Slack emulator. An incident is reported,
its set-up is held inside the summary's `chat.postMessage` (Slack posted it, the reply never came)
and the bot is killed with SIGKILL at a random moment of its lease heartbeat. The same replica is
started again; the figure is the time from that start to the set-up being `ready` in the database,
and, within it, the time the new process took to start (imports, database, Socket Mode).

    python bench/resume_time.py [--rounds 5] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from emulators.slackemu import SlackEmulator
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Incident

REPORT = "/dispatch-report-incident"


def bot_env(slack: SlackEmulator, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_", "HTTP_"))}
    env.update(SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token, SLACK_API_URL=slack.api_url,
               DATABASE_URL=db_url, HTTP_HOST="127.0.0.1", HTTP_PORT="0", LOG_LEVEL="INFO")
    return env


async def spawn(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env, cwd=log.parent,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)


async def one_round(slack: SlackEmulator, sessions, env: dict[str, str], log: Path, n: int) -> tuple[float, float]:
    user = slack.add_user(f"reporter-{n}")
    general = next(c.id for c in slack.channels.values() if c.name == "general")
    slack.channels[general].members.add(user)
    title = f"Resume bench {n}"
    hang = slack.hang("chat.postMessage", after=True, when=lambda p: title in str(p.get("text")))
    bot = await spawn(env, log)
    await slack.wait_connected(30)
    await slack.slash_command(user, REPORT, channel=general)
    [view] = await slack.wait_for(lambda: slack.open_views(user), timeout=20)
    await slack.submit_view(user, view.id, {"title": title, "description": "bench", "incident_priority": "Low"})
    await hang.wait_reached(20)
    await asyncio.sleep(random.uniform(0, 5))  # anywhere in the 5 s heartbeat cycle
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    slack.faults.release_hangs()
    await slack.wait_for(lambda: slack.connections == 0, timeout=10)

    started = time.perf_counter()
    bot = await spawn(env, log)
    await slack.wait_connected(30)
    connected = time.perf_counter() - started
    while True:
        async with sessions() as session:
            state = (await session.execute(select(Incident.setup_state).where(Incident.title == title))).scalar_one()
        if state == "ready":
            break
        if time.perf_counter() - started > 180:
            raise SystemExit(f"round {n}: not ready 180 s after the restart; see {log}")
        await asyncio.sleep(0.05)
    ready = time.perf_counter() - started
    bot.send_signal(signal.SIGTERM)
    await bot.wait()
    await slack.wait_for(lambda: slack.connections == 0, timeout=10)
    return connected, ready


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await upgrade_async(db_url)
        engine = create_engine(db_url)
        slack = SlackEmulator()
        await slack.start()
        slack.add_channel("general", bot_member=True)
        log = Path(tmp) / "bot.log"
        try:
            figures = [await one_round(slack, session_factory(engine), bot_env(slack, db_url), log, n)
                       for n in range(args.rounds)]
        finally:
            await slack.stop()
            await engine.dispose()
    starts, readies = [f[0] for f in figures], [f[1] for f in figures]
    print(f"interrupted set-up (kill -9 inside chat.postMessage), {args.rounds} rounds, "
          f"{'Postgres' if 'postgresql' in db_url else 'SQLite'}:")
    print(f"  restart -> Socket Mode connected: median {statistics.median(starts):.1f} s, max {max(starts):.1f} s")
    print(f"  restart -> set-up ready:          median {statistics.median(readies):.1f} s, max {max(readies):.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
