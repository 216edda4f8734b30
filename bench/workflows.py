"""Benchmark: workflow runs through the Slack emulator and a local runner (webhookemu).

1. /dispatch-run-workflow submit → the run message shows "submitted" (stored, posted, webhook called, edited),
   sequentially, at 0 and 100 ms injected Slack latency: submit ack and submit → submitted p50/p99.
2. Status reports: --runs runs each reported `running` then `completed` (with an artifact) by --clients
   concurrent clients: reports/s, report latency p50/p99, and the time until every run message shows
   `completed` (each report edits its message once).

    python bench/workflows.py [--rounds 10] [--runs 100] [--clients 16] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import select

from bench.stats import pct
from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SetupState
from domain.workflows import store_run
from emulators.slackemu import SlackEmulator
from emulators.webhookemu import WebhookEmulator
from storage.migrate import upgrade_async
from storage.models import Incident
from storage.workflow_models import WorkflowInstance

TOKEN = "bench-token"


async def new_view(emu, user, command, channel, text=""):
    before = set(emu.views)
    await emu.slash_command(user, command, text, channel=channel)
    return (await emu.wait_for(lambda: [v for v in emu.open_views(user) if v.id not in before], timeout=30))[-1]


async def one_run(emu, runtime, user, channel_id, i: int) -> tuple[float, float]:
    view = await new_view(emu, user, "/dispatch-run-workflow", channel_id, "Isolate host")
    started = time.perf_counter()
    delivery = await emu.submit_view(user, view.id, {"wf_param_host": f"host-{i}", "reason": f"round {i}"})
    channel = emu.channels[channel_id]
    await emu.wait_for(lambda: any(f"host-{i}" in json.dumps(m.blocks) and "submitted" in m.text for m in channel.messages),
                       timeout=30, interval=0.001)
    return delivery.latency, time.perf_counter() - started


async def reports(base: str, ids: list[str], clients: int) -> tuple[list[float], float]:
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
    for run_id in ids:
        queue.put_nowait((run_id, {"status": "running"}))
    for run_id in ids:
        queue.put_nowait((run_id, {"status": "completed", "artifacts": [{"name": "log", "link": f"https://x.example.com/{run_id}"}]}))
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            run_id, body = queue.get_nowait()
            t = time.perf_counter()
            async with http.post(f"{base}/api/v1/default/workflows/instances/{run_id}", data=json.dumps(body),
                                 headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def main(rounds: int, runs: int, clients: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu, runner = SlackEmulator(), WebhookEmulator({"isolate": "s"})
        await emu.start()
        await runner.start()
        try:
            alice = emu.add_user("alice", real_name="Alice Ops")
            general = emu.add_channel("general", members=[alice], bot_member=True)
            config = WarroomConfig.model_validate({
                "signals": {"sources": [{"name": "runner", "token": TOKEN}]},
                "workflows": {"definitions": [{"name": "Isolate host", "url": runner.hook_url("isolate"), "secret": "s",
                                               "parameters": [{"name": "host", "required": True}]}]}})
            async with running_warroom(emu, url, config) as runtime:
                view = await new_view(emu, alice, "/dispatch-report-incident", general)
                await emu.submit_view(alice, view.id, {"title": "Intrusion", "description": "bench"})

                async def ready():
                    async with runtime.deps.sessions() as session:
                        row = (await session.execute(select(Incident))).scalar_one_or_none()
                    return row if row and row.setup_state == SetupState.READY else None

                incident = await emu.wait_for(ready, timeout=30)
                print(f"workflows benchmark, database {url.split(':')[0]}")
                print(f"{'slack latency':>14} {'submit ack p50/p99':>19} {'submit → submitted p50/p99':>27}")
                for latency in (0.0, 0.1):
                    emu.faults.latency = latency
                    acks, done = [], []
                    for i in range(rounds):
                        a, d = await one_run(emu, runtime, alice, incident.channel_id, i + (1000 if latency else 0))
                        acks.append(a), done.append(d)
                    print(f"{latency * 1000:>11.0f} ms {pct(acks, .5):>8.1f}/{pct(acks, .99):<8.1f}ms "
                          f"{pct(done, .5):>12.1f}/{pct(done, .99):<8.1f}ms")

                emu.faults.latency = 0.0
                definition = config.workflows.definitions[0]
                ids = []
                async with runtime.deps.sessions() as session:  # runs as if their webhook had accepted them
                    for i in range(runs):
                        row, _ = await store_run(session, config, definition, key=f"bench:{i}", parameters={"host": "h"},
                                                 reason="bench", creator=alice, incident_id=incident.id)
                        row.status = "submitted"
                        ids.append(row.id)
                    await session.commit()
                edits_before = len(emu.calls_to("chat.update"))
                latencies, elapsed = await reports(f"http://127.0.0.1:{runtime.http_port}", ids, clients)
                started = time.perf_counter()

                async def all_completed():
                    async with runtime.deps.sessions() as session:
                        rows = (await session.execute(select(WorkflowInstance).where(WorkflowInstance.id.in_(ids)))).scalars().all()
                    return all(r.status == "completed" and r.shown_version >= r.version for r in rows)

                await emu.wait_for(all_completed, timeout=120, interval=0.01)
                settle = time.perf_counter() - started
                edits = len(emu.calls_to("chat.update")) - edits_before
                print(f"status reports: {len(latencies)} from {clients} clients in {elapsed:.2f} s = "
                      f"{len(latencies) / elapsed:,.0f}/s, latency p50 {pct(latencies, .5):.1f} ms / p99 "
                      f"{pct(latencies, .99):.1f} ms; every message completed {settle * 1000:.0f} ms after the last "
                      f"report; {edits} message edits for {runs} runs (first report posts it)")
        finally:
            await runner.stop()
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.runs, args.clients, args.database_url))
