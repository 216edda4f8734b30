"""Benchmark: /dispatch-engage-oncall with paging through the Slack and PagerDuty emulators.

For each PagerDuty latency (0 ms, 100 ms, 2.5 s: slower than the form's 1.5 s budget, and 6 s:
beyond the adapter's 5 s deadline), N incidents each engage and page the db on-call once, one
after the other, and it prints (p50/p99, ms):
- the slash command's ack, and command → engage form open (who is on call is looked up first),
- the form submission's ack (the page is stored before it),
- submit → PagerDuty incident raised (or, when PagerDuty never answers in time, how many pages
  were recorded for a retry instead).

    python bench/paging.py [--incidents 20] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.stats import pct
from bot.harness import running_warroom
from domain.config.paging import PagerDutyConfig, PagerDutyService
from domain.config.schema import WarroomConfig
from emulators.pagerdutyemu import PagerDutyEmulator
from emulators.slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.paging_models import OncallPage
from tests.e2e.incident_helpers import report

ROUTING_KEY = "b" * 32


async def one_run(db_url: str, pd_latency: float, incidents: int) -> dict[str, list[float] | int]:
    slack, pd = SlackEmulator(), PagerDutyEmulator(token="bench-token")
    await slack.start()
    await pd.start()
    try:
        alice = slack.add_user("alice", real_name="Alice Ops", email="alice@example.com")
        general = slack.add_channel("general", members=[alice], bot_member=True)
        slack.add_user("carol", real_name="Carol DBA", email="carol@example.com")
        carol = pd.add_user("Carol DBA", "carol@example.com")
        pd.add_user("warroom", "warroom-bot@example.com")
        db = pd.add_service("db", pd.add_policy("DB", [[("user", carol)]]), routing_key=ROUTING_KEY)
        os.environ["BENCH_PD_TOKEN"], os.environ["BENCH_PD_KEY"] = pd.token, ROUTING_KEY
        config = WarroomConfig(pagerduty=PagerDutyConfig(
            api_token_env="BENCH_PD_TOKEN", from_email="warroom-bot@example.com", api_url=pd.api_url,
            events_url=pd.events_url, cache_seconds=0,
            services=[PagerDutyService(name="db", id=db, routing_key_env="BENCH_PD_KEY")]))
        figures: dict[str, list[float] | int] = {"command_ack": [], "form_open": [], "submit_ack": [], "paged": []}
        async with running_warroom(slack, db_url, config) as warroom:
            rooms = [await report(slack, warroom, alice, general, title=f"Checkout down {i}") for i in range(incidents)]
            pd.latency = pd_latency
            for incident in rooms:
                before = set(slack.views)
                started = time.perf_counter()
                command = await slack.slash_command(alice, "/dispatch-engage-oncall", channel=incident.channel_id)
                view = (await slack.wait_for(lambda b=before: [v for v in slack.open_views(alice) if v.id not in b],
                                             timeout=10))[-1]
                figures["command_ack"].append(command.latency)  # type: ignore[union-attr]
                figures["form_open"].append(time.perf_counter() - started)  # type: ignore[union-attr]
                raised = len(pd.incidents)
                started = time.perf_counter()
                submitted = await slack.submit_view(alice, view.id, {"service": "db", "page": ["page"]})
                figures["submit_ack"].append(submitted.latency)  # type: ignore[union-attr]
                try:
                    await slack.wait_for(lambda r=raised: len(pd.incidents) > r, timeout=15, interval=0.005)
                    figures["paged"].append(time.perf_counter() - started)  # type: ignore[union-attr]
                except TimeoutError:
                    pass
            await warroom.registry.drain()
            async with warroom.deps.sessions() as session:
                figures["pending"] = (await session.execute(
                    select(func.count()).select_from(OncallPage).where(OncallPage.sent_at.is_(None)))).scalar_one()
    finally:
        await pd.stop()
        await slack.stop()
    return figures


def row(name: str, values: list[float]) -> str:
    return f"{name} {pct(values, 0.5):,.0f} / {pct(values, 0.99):,.0f} ms" if values else f"{name} —"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # the emulator: clients that gave up
    for latency in (0.0, 0.1, 2.5, 6.0):
        with tempfile.TemporaryDirectory() as tmp:
            db_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(db_url)
            f = await one_run(db_url, latency, args.incidents)
            print(f"PagerDuty latency {latency * 1000:,.0f} ms: {row('command ack', f['command_ack'])}; "  # type: ignore[arg-type]
                  f"{row('form open', f['form_open'])}; {row('submit ack', f['submit_ack'])}; "  # type: ignore[arg-type]
                  f"{row('paged', f['paged'])} ({len(f['paged'])} of {args.incidents}); "  # type: ignore[arg-type]
                  f"pages kept for a retry: {f['pending']}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
