"""Benchmark: signal instances posted to a running warroom (POST /api/v1/{organization}/signals/instances).

The load generator runs in a child process so it does not share the server's event loop. Prints
accepted instances per second, the reply latency (p50/p99) seen by the sender, and the CPU time
warroom's process spent per post (the figure least disturbed by other load on the machine).

    python bench/signal_ingest.py [--requests 10000] [--concurrency 32] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import pct  # noqa: E402
from bot.harness import running_warroom  # noqa: E402
from domain.config import WarroomConfig  # noqa: E402
from slackemu import SlackEmulator  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402

TOKEN = "bench-token"
CONFIG = WarroomConfig.model_validate({"signals": {
    "sources": [{"name": "bench", "token": TOKEN}],
    "definitions": [{"name": "Bench alert", "external_id": "bench-1"}],
}})


async def _load(port: int, requests: int, concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    import aiohttp

    url = f"http://127.0.0.1:{port}/api/v1/default/signals/instances"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bodies = [json.dumps({"project": "default", "raw": {"id": str(uuid.uuid4()), "externalId": "bench-1",
                                                         "host": f"host-{i}", "user": "alice", "severity": 3}}).encode()
              for i in range(requests)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body in queue:
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - start)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


def _load_process(port: int, requests: int, concurrency: int, out: multiprocessing.Queue) -> None:
    out.put(asyncio.run(_load(port, requests, concurrency)))


async def main(requests: int, concurrency: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu = SlackEmulator()
        await emu.start()
        try:
            async with running_warroom(emu, url, CONFIG) as runtime:
                spawn = multiprocessing.get_context("spawn")
                results = spawn.Queue()
                for label, n in (("warm-up", min(500, requests)), ("measured", requests)):
                    child = spawn.Process(
                        target=_load_process, args=(runtime.http_port, n, concurrency, results))
                    cpu = time.process_time()
                    child.start()
                    elapsed, latencies, statuses = await asyncio.get_running_loop().run_in_executor(None, results.get)
                    child.join()
                    cpu = time.process_time() - cpu  # warroom's process only: the sender is the child
                    if label == "measured":
                        print(f"signal ingestion: {n} posts, {concurrency} concurrent, database {url.split(':')[0]}")
                        print(f"  {statuses.get(202, 0) / elapsed:.0f} accepted/s; statuses {statuses}; "
                              f"latency p50 {pct(latencies, .5):.1f} ms, p99 {pct(latencies, .99):.1f} ms; "
                              f"warroom CPU {cpu / n * 1000:.2f} ms per post")
        finally:
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.database_url))
