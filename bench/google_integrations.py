"""Benchmark: do Google Drive/Docs and Meet set-up steps slow acks or channels? Same run, both ways.

Concurrent reports through the Slack emulator at 100 ms Slack latency, alternating rounds with the
Google integrations off and on (incident folder + document + Meet bridge, the Google emulator answering
every call after 300 ms, in its own process). Prints command/submit ack p50/p99, report → channel-ready p50/p99, and for the
rounds with Google on, report → document linked p50/p99.

    python bench/google_integrations.py [--reports 20] [--rounds 2] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.ack_latency import READY, run_round
from bench.stats import pct
from bot.harness import running_warroom
from domain.config.google import ConferenceConfig, GoogleConfig, GoogleDocumentsConfig
from domain.config.schema import WarroomConfig
from domain.response import setup as setup_flow
from emulators.slackemu import SlackEmulator
from storage.google_models import IncidentResource
from storage.migrate import upgrade_async
from storage.models import Incident

KEY_ENV = "WARROOM_BENCH_GOOGLE_KEY"
SLACK_LATENCY = 0.1
GOOGLE_LATENCY = 0.3


async def _linked(runtime, since: float, count: int, deadline: float) -> list[float]:
    """Seconds from the round's start until the document of each incident reported in it was linked (polled
    every 50 ms; the incidents of earlier rounds, backfilled by the resume job, are not counted)."""
    async with runtime.deps.sessions() as session:
        first = ((await session.execute(select(func.max(Incident.id)))).scalar() or 0) + 1
    seen: dict[int, float] = {}
    while len(seen) < count and time.perf_counter() < deadline:
        async with runtime.deps.sessions() as session:
            ids = (await session.execute(select(IncidentResource.incident_id).where(
                IncidentResource.kind == "document", IncidentResource.linked,
                IncidentResource.incident_id >= first))).scalars().all()
        now = time.perf_counter()
        for i in ids:
            seen.setdefault(i, now - since)
        await asyncio.sleep(0.05)
    return list(seen.values())


def _line(label: str, r: dict, docs: list[float] | None) -> str:
    doc = f"{pct(docs, .5):>7.0f}/{pct(docs, .99):<7.0f}ms" if docs else f"{'-':>17}"
    return (f"{label:>12} {pct(r['command_ack'], .5):>7.1f}/{pct(r['command_ack'], .99):<7.1f}ms "
            f"{pct(r['submit_ack'], .5):>8.1f}/{pct(r['submit_ack'], .99):<7.1f}ms "
            f"{pct(r['ready'], .5):>7.0f}/{pct(r['ready'], .99):<7.0f}ms {doc} {r['lost']:>5}")


async def main(reports: int, rounds: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    reporting_log = logging.getLogger(setup_flow.__name__)
    reporting_log.setLevel(logging.INFO)
    reporting_log.addHandler(READY)
    reporting_log.propagate = False
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        slack = SlackEmulator()
        await slack.start()
        # The Google emulator in its own process: its 300 ms answers must not cost the bot's event loop anything.
        google = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulators.googleemu", "--latency", str(GOOGLE_LATENCY), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
        assert google.stdout is not None and google.stdin is not None
        info = json.loads(await google.stdout.readline())
        key = Path(tmp) / "key.json"
        key.write_text(json.dumps(info["key"]))
        os.environ[KEY_ENV] = str(key)
        on = WarroomConfig(google=GoogleConfig(credentials_env=KEY_ENV, api_base=info["url"], documents=GoogleDocumentsConfig(
            parent_folder_id=info["root"], incident_template_id=info["template"])), conference=ConferenceConfig())
        try:
            users = [slack.add_user(f"user{i}", real_name=f"User {i}", email=f"user{i}@example.com") for i in range(reports)]
            channel = slack.add_channel("general", members=users, bot_member=True)
            print(f"warroom with and without Google: {reports} concurrent reports a round, Slack {SLACK_LATENCY * 1000:.0f} ms, "
                  f"Google {GOOGLE_LATENCY * 1000:.0f} ms, database {url.split(':')[0]}")
            print(f"{'google':>12} {'cmd ack p50/p99':>17} {'submit ack p50/p99':>19} {'ready p50/p99':>17} "
                  f"{'document p50/p99':>17} {'lost':>5}")
            totals: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
            for _ in range(rounds):
                for mode in ("off", "on"):
                    async with running_warroom(slack, url, on if mode == "on" else None) as runtime:
                        start = time.perf_counter()
                        linked = asyncio.create_task(_linked(runtime, start, reports, start + 120)) if mode == "on" else None
                        r = await run_round(slack, runtime, users, channel, SLACK_LATENCY)
                        docs = await linked if linked else None
                        print(_line(mode, r, docs))
                        for name in ("command_ack", "submit_ack", "ready"):
                            totals[mode].setdefault(name, []).extend(r[name])
            off, on_ = totals["off"], totals["on"]
            for name, label in (("command_ack", "command ack p99"), ("submit_ack", "submit ack p99"),
                                ("ready", "channel ready p50")):
                q = .5 if name == "ready" else .99
                a, b = pct(off[name], q), pct(on_[name], q)
                print(f"{label}: off {a:.0f} ms, on {b:.0f} ms ({(b - a) / a * 100:+.0f}%)")
            google.stdin.close()
            counts = json.loads(await google.stdout.readline())
            print(f"Google calls: {counts['calls']} ({counts['tokens']} token requests)")
        finally:
            if google.returncode is None:
                google.kill()
            await google.wait()
            await slack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.rounds, args.database_url))
