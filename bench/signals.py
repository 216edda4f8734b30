"""Benchmark: signal ingestion and processing, on SQLite and on Postgres.

A load process (separate from warroom's, as a real sender would be) runs N concurrent clients
posting realistic alert payloads to the running bot's `POST /signals`. Entity extraction is on
(JSONPath + regex) and a dedup filter on the `user` entity makes ~90% of alerts duplicates.

Prints, per database:
- accepted/s and request latency p50/p99 (sender side),
- processed/s (first request → queue drained), cases created, duplicates attached,
- lost = accepted − stored (must be 0),
- the raw single-row INSERT + COMMIT rate of the same database with the same concurrency (ceiling).

    python bench/signals.py [--requests 5000] [--clients 32] [--database sqlite|postgres|both] [--worker-paused]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import func, select, text

from bench.stats import pct
from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SignalStatus
from domain.signals.worker import SignalWorker
from slackemu import SlackEmulator
from storage.case_models import Case
from storage.db import create_engine
from storage.migrate import upgrade_async
from storage.signal_models import SignalInstance

TOKEN = "bench-token"
DEFINITIONS = [f"detector-{n}" for n in range(10)]
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def bench_config(channel: str) -> WarroomConfig:
    return WarroomConfig.model_validate({"signals": {
        "sources": [{"name": "bench", "token": TOKEN}],
        "entity_types": [
            {"name": "ip", "regex": r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "scope": "global"},
            {"name": "user", "jsonpath": "$.detail.userIdentity.userName", "scope": "global"},
        ],
        "definitions": [{"name": d, "external_id": d, "conversation_target": channel, "dedup_window_seconds": 0}
                        for d in DEFINITIONS],
        "filters": [{"name": "same user", "action": "deduplicate", "entity_types": ["user"], "window_seconds": 3600}],
    }})


# The sender: runs in its own process (`--load` mode) and prints one JSON line of results.
def payload(rng: random.Random, users: int) -> bytes:
    """A GuardDuty-like finding (~1.2 KB); ~`users` distinct users across the run."""
    user = f"user{rng.randrange(users)}"
    ip = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
    raw = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "externalId": rng.choice(DEFINITIONS),
        "name": "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", "variant": "guardduty",
        "severity": rng.choice([2, 5, 8]), "region": "eu-west-1", "accountId": "123456789012",
        "detail": {
            "userIdentity": {"type": "IAMUser", "userName": user, "arn": f"arn:aws:iam::123456789012:user/{user}"},
            "sourceIPAddress": ip, "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "eventName": "ConsoleLogin", "eventTime": "2026-11-25T03:12:44Z",
            "service": {"count": rng.randrange(1, 40), "archived": False,
                        "evidence": [{"threatIntelligenceDetails": [{"threatListName": "ProofPoint"}]}]},
            "description": f"Console login for {user} from {ip}, a location never seen for this principal.",
        },
    }
    return json.dumps({"project": "default", "raw": raw}).encode()


async def load(url: str, requests: int, clients: int, users: int, seed: int) -> None:
    rng = random.Random(seed)
    bodies = [payload(rng, users) for _ in range(requests)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def client():
            for body in queue:
                start = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - start)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - began
    print(json.dumps({"wall": wall, "latencies": latencies, "statuses": statuses}))


# The harness: the bot under test, in this process.
async def raw_insert_rate(url: str, rows: int, clients: int) -> float:
    """Single-row INSERT + COMMIT per statement with `clients` concurrent connections: the database's ceiling."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_raw (id VARCHAR(36) PRIMARY KEY, body TEXT)"))
    body = "x" * 1200
    todo = iter(range(rows))

    async def writer():
        for _ in todo:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO bench_raw (id, body) VALUES (:id, :body)"),
                                   {"id": str(uuid.uuid4()), "body": body})

    began = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(clients)))
    rate = rows / (time.perf_counter() - began)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE bench_raw"))
    await engine.dispose()
    return rate


async def fresh_postgres(name: str) -> str:
    engine = create_engine(POSTGRES_ADMIN)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def run(url: str, label: str, requests: int, clients: int, worker_paused: bool = False) -> None:
    await upgrade_async(url)
    emu = SlackEmulator()
    await emu.start()
    channel = emu.add_channel("sec-triage")
    users = max(1, requests // 10)  # first alert of each user opens a case: ~10% cases, ~90% duplicates
    try:
        async with running_warroom(emu, url, bench_config(channel)) as warroom:
            endpoint = f"http://127.0.0.1:{warroom.http_port}/signals"
            if worker_paused:
                await warroom.signal_worker.stop()
            began = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--load", endpoint, "--requests", str(requests), "--clients", str(clients),
                "--users", str(users), stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            result = json.loads(out.decode().strip().splitlines()[-1])
            accepted = result["statuses"].get("202", 0) + result["statuses"].get("200", 0)
            sessions = warroom.deps.sessions
            if worker_paused:  # processing measured on its own, from the full queue
                began = time.perf_counter()
                warroom.signal_worker = SignalWorker(warroom.deps)
                warroom.signal_worker.start()
            while True:
                async with sessions() as session:
                    done = (await session.execute(select(func.count()).select_from(SignalInstance)
                                                  .where(SignalInstance.status == SignalStatus.PROCESSED))).scalar_one()
                if done >= accepted or time.perf_counter() - began > 600:
                    break
                await asyncio.sleep(0.05)
            drained = time.perf_counter() - began
            async with sessions() as session:
                stored = (await session.execute(select(func.count()).select_from(SignalInstance))).scalar_one()
                outcomes = dict((await session.execute(select(SignalInstance.outcome, func.count())
                                                       .group_by(SignalInstance.outcome))).all())
                cases = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
    finally:
        await emu.stop()
    ceiling = await raw_insert_rate(url, min(requests, 5000), clients)
    lat = result["latencies"]
    mode = "worker paused while posting" if worker_paused else "worker running"
    print(f"{label}: {requests} requests, {clients} clients, {mode}, statuses {result['statuses']}")
    print(f"  accepted/s {accepted / result['wall']:.0f}   latency p50 {pct(lat, 0.5):.1f} ms  p99 {pct(lat, 0.99):.1f} ms")
    print(f"  processed/s {done / drained:.0f} (drained in {drained:.1f} s)   cases {cases}   "
          f"duplicates {outcomes.get('deduplicated', 0)}   lost {accepted - stored}")
    print(f"  raw single-row insert ceiling {ceiling:.0f} rows/s")


async def main(args: argparse.Namespace) -> None:
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.requests, args.clients,
                      args.worker_paused)
    if args.database in ("postgres", "both"):
        await run(await fresh_postgres("warroom_bench_signals"), "Postgres", args.requests, args.clients,
                  args.worker_paused)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--worker-paused", action="store_true",
                        help="post with the worker stopped, then time processing the full queue on its own")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        asyncio.run(load(args.load, args.requests, args.clients, args.users, seed=7))
    else:
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(main(args))
