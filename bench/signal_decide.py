"""Benchmark: the signal worker's deciding alone — no HTTP, no Slack, no card posts.

Stores N alerts of the `bench/signals.py` stream (90% duplicates, entity extraction on) straight
into the queue, then drains it with `SignalWorker.run_once` and prints alerts decided per second
and the CPU time per alert of this process (less sensitive to a busy machine than the rate), per
batch size. This is the processing ceiling the full benchmark's processed/s approaches.

    python bench/signal_decide.py [--alerts 5000] [--batches 50,200,500] [--database sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import SQLModel

from bench.signals import bench_config, fresh_postgres, payload
from domain.core.deps import Deps
from domain.core.ports import Ports
from domain.signals.worker import SignalWorker
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.signal_models import SignalInstance
from storage.types import utcnow


class NoSlack:
    """The worker never calls Slack itself (the card task does, and is not started here)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the deciding path called Slack ({name})")


async def decide(url: str, alerts: int, batch: int) -> tuple[float, float]:
    await upgrade_async(url)
    engine = create_engine(url)
    rng = random.Random(7)
    now = utcnow()
    rows = []
    for _ in range(alerts):
        raw = json.loads(payload(rng, max(1, alerts // 10)))["raw"]
        rows.append(dict(id=raw["id"], organization="default", project="default", definition=raw["externalId"],
                         source="bench", raw=raw, received_at=now, next_attempt_at=now, status="pending", attempts=0))
    async with engine.begin() as conn:
        await conn.execute(SQLModel.metadata.tables[SignalInstance.__tablename__].insert(), rows)
    config = bench_config("C0TRIAGE").model_copy(deep=True)
    config.signals.worker_batch = batch
    worker = SignalWorker(Deps(session_factory(engine), config, Ports.with_conversation(NoSlack())))  # type: ignore[arg-type]
    began, cpu = time.perf_counter(), time.process_time()
    while await worker.run_once():
        pass
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    await engine.dispose()
    assert worker.stats.processed == alerts, worker.stats
    return alerts / wall, cpu * 1e6 / alerts


async def main(args: argparse.Namespace) -> None:
    batches = [int(b) for b in args.batches.split(",")]
    print(f"deciding {args.alerts} alerts (90% duplicates), worker alone")
    for database in ("sqlite", "postgres"):
        if args.database not in (database, "both"):
            continue
        for batch in batches:
            with tempfile.TemporaryDirectory() as tmp:
                url = (f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}" if database == "sqlite"
                       else await fresh_postgres("warroom_bench_decide"))
                rate, cpu = await decide(url, args.alerts, batch)
            print(f"  {database:8} batch {batch:>4}: {rate:6.0f} alerts/s   {cpu:5.0f} µs CPU per alert")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--batches", default="50,200,500")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    asyncio.run(main(parser.parse_args()))
