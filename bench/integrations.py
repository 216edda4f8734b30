"""Benchmark: do integrations slow Slack down? Reports at 100 ms Slack latency, in the same run, with no
integration and with Jira tickets (the Jira emulator at 300 ms per request).

Prints, for each: command and submit ack p50/p99, report → channel-ready p50/p99, report → ticket linked
(bookmark and summary) p50/p99, and the ratios of the Jira figures to the integrations-off ones (issue 13
asks ack p99 and ready p50 within 10%). Rounds: `--reports` concurrent reports, then `--lone` reports one
at a time (what a single responder sees).

    python bench/integrations.py [--reports 20] [--lone 5] [--rounds 2] [--jira-latency-ms 300] [--database-url …]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, update

from bench.ack_latency import READY, run_round
from bench.stats import pct
from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.config.tickets import TicketsConfig
from domain.core.vocabulary import IncidentStatus
from domain.response import setup as setup_flow
from emulators.jiraemu import JiraEmulator
from emulators.slackemu import SlackEmulator
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Incident
from storage.ticket_models import IncidentTicket

TOKEN_ENV = "WARROOM_BENCH_JIRA_TOKEN"
SLACK_LATENCY = 0.1


async def _linked_names(runtime, names_before: set[str]) -> set[str]:
    async with runtime.deps.sessions() as session:
        rows = (await session.execute(
            select(Incident.name).join(IncidentTicket, IncidentTicket.incident_id == Incident.id)
            .where(IncidentTicket.linked))).scalars().all()
    return set(rows) - names_before


async def _with_ticket_times(runtime, reporting, names_before: set[str], deadline: float) -> tuple[dict, list[float]]:
    """Run `reporting` (a round of reports) while polling, every 20 ms, when each new incident's ticket got
    linked; returns the round's figures and the seconds from the round's start to each link."""
    since = time.perf_counter()
    task = asyncio.ensure_future(reporting)
    linked: dict[str, float] = {}
    while time.perf_counter() < deadline:
        for name in await _linked_names(runtime, names_before):
            linked.setdefault(name, time.perf_counter() - since)
        if task.done() and len(linked) >= len(await _names(runtime) - names_before):
            break
        await asyncio.sleep(0.02)
    result = await task
    if os.environ.get("BENCH_DEBUG"):
        print(f"  ticket times: {len(linked)}: {sorted(round(v, 1) for v in linked.values())}")
    return result, list(linked.values())


async def _close_all(url: str) -> None:
    """Incidents of the previous round are Closed: the Jira round's resume job must not ticket them."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await session.execute(update(Incident).values(status=IncidentStatus.CLOSED))
            await session.commit()
    finally:
        await engine.dispose()


class JiraInThread:
    """The Jira emulator on its own event loop in a thread: a real Jira is remote, so serving it must not take
    turns on the bot's loop (the Slack emulator does share it, as in the other benchmarks)."""

    def __init__(self, latency: float) -> None:
        self.emu = JiraEmulator(latency=latency)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> JiraEmulator:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.emu.start(), self.loop).result(10)
        return self.emu

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.emu.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _names(runtime) -> set[str]:
    async with runtime.deps.sessions() as session:
        return set((await session.execute(select(Incident.name))).scalars())


async def measure(emu: SlackEmulator, runtime, users: list[str], channel: str, lone: int, *, jira: bool) -> dict:
    round_ = run_round(emu, runtime, users, channel, SLACK_LATENCY)
    before = await _names(runtime)
    burst, tickets = await _with_ticket_times(runtime, round_, before, time.perf_counter() + 240) if jira else (
        await round_, [])
    lone_ready: list[float] = []
    lone_tickets: list[float] = []
    for _ in range(lone):
        before = await _names(runtime)
        lone_round = run_round(emu, runtime, users[:1], channel, SLACK_LATENCY)
        one, linked = await _with_ticket_times(runtime, lone_round, before, time.perf_counter() + 60) if jira else (
            await lone_round, [])
        lone_ready += one["ready"]
        lone_tickets += linked
    return {**burst, "tickets": tickets, "lone_ready": lone_ready, "lone_tickets": lone_tickets}


def _line(label: str, r: dict) -> str:
    def pair(values: list[float]) -> str:
        return f"{pct(values, .5):>6.0f}/{pct(values, .99):<6.0f}" if values else f"{'-':>6}/{'-':<6}"

    return (f"{label:<22} {pair(r['command_ack'])} {pair(r['submit_ack'])} {pair(r['ready'])} {pair(r['tickets'])} "
            f"{pair(r['lone_ready'])} {pair(r['lone_tickets'])}")


async def main(reports: int, lone: int, rounds: int, jira_latency: float, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    reporting_log = logging.getLogger(setup_flow.__name__)
    reporting_log.setLevel(logging.INFO)
    reporting_log.addHandler(READY)
    reporting_log.propagate = False
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu, jira_thread = SlackEmulator(), JiraInThread(jira_latency)
        await emu.start()
        jira_emu = jira_thread.start()
        os.environ[TOKEN_ENV] = jira_emu.token
        try:
            users = [emu.add_user(f"user{i}", real_name=f"User {i}", email=f"user{i}@example.com")
                     for i in range(reports)]
            channel = emu.add_channel("general", members=users, bot_member=True)
            tickets = TicketsConfig(server=jira_emu.url, user_email=jira_emu.email, api_token_env=TOKEN_ENV,
                                    project_key="INC", priorities={"Low": "Low", "High": "Highest"}, timeout=10)
            print(f"integrations benchmark: {rounds} alternated rounds of {reports} concurrent reports then {lone} lone "
                  "ones, Slack latency "
                  f"{SLACK_LATENCY * 1000:.0f} ms, Jira latency {jira_latency * 1000:.0f} ms, database {url.split(':')[0]}")
            print(f"{'':<22} {'cmd ack p50/p99':>13} {'submit ack':>13} {'ready':>13} {'ticket linked':>13} "
                  f"{'lone ready':>13} {'lone ticket':>13}   (ms)")
            configs = {"integrations off": WarroomConfig(),
                       f"Jira at {jira_latency * 1000:.0f} ms": WarroomConfig(tickets=tickets)}
            async with running_warroom(emu, url) as runtime:  # warm-up, not counted: first-use costs
                await run_round(emu, runtime, users[:5], channel, SLACK_LATENCY)
            results: dict[str, dict] = {label: {} for label in configs}
            for _ in range(rounds):  # alternated, so a machine busier in one half does not favour a side
                for label, config in configs.items():
                    await _close_all(url)
                    async with running_warroom(emu, url, config) as runtime:
                        r = await measure(emu, runtime, users, channel, lone, jira=config.tickets is not None)
                    for key, values in r.items():
                        if isinstance(values, list):
                            results[label].setdefault(key, []).extend(values)
            for label, r in results.items():
                print(_line(label, r))
            off, on = results.values()
            ratios = {"submit ack p99": (pct(on["submit_ack"], .99), pct(off["submit_ack"], .99)),
                      "ready p50": (pct(on["ready"], .5), pct(off["ready"], .5)),
                      "lone ready p50": (pct(on["lone_ready"], .5), pct(off["lone_ready"], .5))}
            print("Jira / off: " + ", ".join(f"{k} {a / b:.2f}" for k, (a, b) in ratios.items() if b))
            labels = [label for issue in jira_emu.issues.values() for label in issue.labels if label.startswith("warroom-inc")]
            print(f"Jira requests: {len(jira_emu.calls)} for {len(jira_emu.issues)} tickets "
                  f"({len(labels) - len(set(labels))} duplicates)")
        finally:
            await emu.stop()
            jira_thread.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20, help="concurrent reports per round (default 20)")
    parser.add_argument("--lone", type=int, default=5, help="reports made one at a time afterwards (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="alternated off/Jira rounds, pooled (default 2)")
    parser.add_argument("--jira-latency-ms", type=float, default=300, help="added to every Jira request (default 300)")
    parser.add_argument("--database-url", default=None, help="default: a throw-away SQLite file")
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.lone, args.rounds, args.jira_latency_ms / 1000, args.database_url))
