"""Benchmark: signal ingestion and processing, on SQLite and on Postgres.

A load process (separate from warroom's, as a real sender would be) runs N concurrent clients
posting realistic alert payloads to the running bot's `POST /signals`. Entity extraction is on
(JSONPath + regex) and a dedup filter on the `user` entity makes ~90% of alerts duplicates.

Prints, per database:
- accepted/s and request latency p50/p99 (sender side),
- processed/s (first request → queue drained), cases created, duplicates attached,
- lost = accepted − stored (must be 0),
- the raw single-row INSERT + COMMIT rate of the same database with the same concurrency, and the
  rate of one multi-row INSERT of the same rows (ceilings), with processed/s as a share of the latter,
- the CPU time of the warroom process per alert.

    python bench/signals.py [--requests 5000] [--clients 32] [--database sqlite|postgres|both] [--worker-paused]
                            [--separate-emulator] [--profile]
    python bench/signals.py --rate 1000 --seconds 120 [--database ...]   # steady stream: depth and lag over time
    python bench/signals.py --replicas 2 --database postgres [--rate 1000 --seconds 60]

Environment: BENCH_STATEMENTS=1 (statements per alert), BENCH_PROFILE_INTAKE=file / BENCH_PROFILE_STEADY=file
(cProfile of warroom while it takes the posts / over a steady run), BENCH_WORKER_BATCH=n (the worker's batch).

`--replicas N` (Postgres only) runs warroom as production does with several replicas: N `python -m bot`
processes (settings from the environment, each its own HTTP_PORT and WARROOM_INSTANCE) on one database
and one Slack app (the emulator in its own process), the sender spreading requests round-robin across their
ports like a load balancer. Every replica is a subprocess, `--replicas 1` included, so 1 and 2 compare
like with like; CPU per alert is then the sum over the replicas' processes (from /proc/<pid>/stat), with
the emulator's and the sender's shown apart. Without `--replicas` the bot runs in this process, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import os
import pstats
import random
import resource
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import func, select, text
from sqlmodel import col

from bench.db_statements import counted_statements, describe
from bench.emulator_process import RemoteEmulator, emulator_process, top_level_posts
from bench.stats import pct
from bot.harness import running_warroom
from bot.memory import settle_after_start
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SignalStatus
from domain.signals.worker import SignalWorker
from emulators.slackemu import SlackEmulator
from storage.case_models import Case
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.signal_models import SignalInstance
from storage.types import utcnow

TOKEN = "bench-token"
GC_PAUSES: list[tuple[int, float]] = []  # (generation, seconds) with BENCH_GC set
DEFINITIONS = [f"detector-{n}" for n in range(10)]
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def bench_config(channel: str) -> WarroomConfig:
    return WarroomConfig.model_validate(bench_config_values(channel))


def bench_config_values(channel: str) -> dict:
    return {"signals": {
        "worker_batch": int(os.environ.get("BENCH_WORKER_BATCH", "200")),  # the config's default unless set
        "sources": [{"name": "bench", "token": TOKEN}],
        "entity_types": [
            {"name": "ip", "regex": r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "scope": "global"},
            {"name": "user", "jsonpath": "$.detail.userIdentity.userName", "scope": "global"},
        ],
        "definitions": [{"name": d, "external_id": d, "conversation_target": channel, "dedup_window_seconds": 0}
                        for d in DEFINITIONS],
        "filters": [{"name": "same user", "action": "deduplicate", "entity_types": ["user"], "window_seconds": 3600}],
    }}


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


async def load(urls: list[str], requests: int, clients: int, users: int, seed: int) -> None:
    """Closed loop: `clients` senders, request i to urls[i % len(urls)] (a round-robin load balancer)."""
    rng = random.Random(seed)
    bodies = [payload(rng, users) for _ in range(requests)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    queue = iter(enumerate(bodies))
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def client():
            for i, body in queue:
                start = time.perf_counter()
                async with http.post(urls[i % len(urls)], data=body, headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - start)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - began
    print(json.dumps({"wall": wall, "latencies": latencies, "statuses": statuses}))


async def steady(urls: list[str], rate: float, seconds: float, users: int, seed: int) -> None:
    """Open loop: request i leaves at start + i/rate whether or not earlier ones were answered, to
    urls[i % len(urls)]."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    bodies = [payload(rng, users) for _ in range(total)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        async def send(url: str, body: bytes) -> None:
            start = time.perf_counter()
            try:
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
            except aiohttp.ClientError:
                statuses[0] = statuses.get(0, 0) + 1
            latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        tasks = []
        for i, body in enumerate(bodies):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(urls[i % len(urls)], body)))
        await asyncio.gather(*tasks)
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


async def batch_insert_rate(url: str, rows: int) -> float:
    """The same rows as one multi-row INSERT in one transaction: the better ceiling for a batch worker."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_batch (id VARCHAR(36) PRIMARY KEY, body TEXT)"))
    values = [{"id": str(uuid.uuid4()), "body": "x" * 1200} for _ in range(rows)]
    began = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO bench_batch (id, body) VALUES (:id, :body)"), values)
    rate = rows / (time.perf_counter() - began)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE bench_batch"))
    await engine.dispose()
    return rate


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # from field 3 (state) on
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime: fields 14 and 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Replica:
    name: str
    port: int
    proc: asyncio.subprocess.Process
    log: Path


@asynccontextmanager
async def replica_processes(url: str, emu: RemoteEmulator, channel: str, count: int) -> AsyncIterator[list[Replica]]:
    """`count` warroom replicas as in production: `python -m bot` each, settings from the environment
    (its own HTTP_PORT and WARROOM_INSTANCE), all on `url` and the one emulated Slack app; stopped with
    SIGTERM on exit. Yields once every one answers /healthz (database up, Socket Mode connected)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "warroom.yaml"
        config.write_text(json.dumps(bench_config_values(channel)))  # (JSON is YAML)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_", "HTTP_", "JOB_", "LOG_"))}
        replicas: list[Replica] = []
        try:
            for n in range(1, count + 1):
                port, log = free_port(), Path(tmp) / f"replica-{n}.log"
                env = {**base, "SLACK_BOT_TOKEN": emu.bot_token, "SLACK_APP_TOKEN": emu.app_token,
                       "SLACK_API_URL": emu.api_url, "DATABASE_URL": url, "HTTP_HOST": "127.0.0.1",
                       "HTTP_PORT": str(port), "WARROOM_CONFIG": str(config), "WARROOM_INSTANCE": f"bench-{n}",
                       "LOG_LEVEL": "WARNING"}  # as the in-process run logs
                with log.open("wb") as out:  # cwd: the temporary directory, so no .env is read
                    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env, cwd=tmp,
                                                                stdout=out, stderr=asyncio.subprocess.STDOUT)
                replicas.append(Replica(f"bench-{n}", port, proc, log))
            async with aiohttp.ClientSession() as http:
                for replica in replicas:
                    await _healthy(http, replica, time.monotonic() + 60)
            yield replicas
        finally:
            for replica in replicas:
                if replica.proc.returncode is None:
                    replica.proc.send_signal(signal.SIGTERM)
            for replica in replicas:
                try:
                    await asyncio.wait_for(replica.proc.wait(), 30)
                except TimeoutError:
                    replica.proc.kill()
                    await replica.proc.wait()
                text = replica.log.read_text()
                records = [line for line in text.splitlines() if line[:4].isdigit()]  # (not traceback lines)
                if replica.proc.returncode not in (0, -signal.SIGTERM):
                    print(f"  {replica.name} exited with {replica.proc.returncode}:\n{text[-3000:]}")
                elif records:  # warnings and errors only (LOG_LEVEL=WARNING)
                    print(f"  {replica.name} logged {len(records)} warning(s) or error(s), the last:",
                          *records[-5:], sep="\n    ")


async def _healthy(http: aiohttp.ClientSession, replica: Replica, deadline: float) -> None:
    while time.monotonic() < deadline:
        if replica.proc.returncode is not None:
            break
        try:
            async with http.get(f"http://127.0.0.1:{replica.port}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"{replica.name} did not become healthy (exit code {replica.proc.returncode}):\n"
                     f"{replica.log.read_text()[-3000:]}")


@dataclass
class UnderTest:
    """The warroom being measured: where to post, how to read its database, and its CPU so far."""

    endpoints: list[str]
    sessions: Any
    runtime: Any = None  # the in-process Runtime (pausing the worker, profiling); None with replicas
    pids: list[int] | None = None  # the replicas' processes
    emulator_pid: int | None = None  # the emulator's, when in its own process
    emulator: Any = None  # SlackEmulator or RemoteEmulator

    async def card_posts(self) -> int:
        """The bot's top-level posts in the triage channel (one card per case, never two)."""
        if isinstance(self.emulator, RemoteEmulator):
            return (await self.emulator.ask({"op": "posts"}))["sec-triage"]
        return top_level_posts(self.emulator, next(c.id for c in self.emulator.channels.values()
                                                   if c.name == "sec-triage"))

    def cpu(self) -> float:
        """CPU seconds of warroom so far: the replicas' processes summed, or this process."""
        return sum(process_cpu(pid) for pid in self.pids) if self.pids else time.process_time()

    def emulator_cpu(self) -> float | None:
        return process_cpu(self.emulator_pid) if self.emulator_pid else None

    def shape(self) -> str:
        if self.pids:
            return f"{len(self.pids)} replica process(es), emulator in its own process"
        return "warroom in this process, " + ("emulator in its own process" if self.emulator_pid else "emulator in-process")


@asynccontextmanager
async def warroom_under_test(url: str, replicas: int, separate: bool) -> AsyncIterator[UnderTest]:
    if replicas:
        async with emulator_process(["sec-triage"]) as remote:
            async with replica_processes(url, remote, remote.channels["sec-triage"], replicas) as procs:
                engine = create_engine(url)
                try:
                    assert remote._proc is not None
                    yield UnderTest([f"http://127.0.0.1:{r.port}/signals" for r in procs], session_factory(engine),
                                    pids=[r.proc.pid for r in procs], emulator_pid=remote._proc.pid, emulator=remote)
                finally:
                    await engine.dispose()
        return
    async with slack_emulator(separate) as (emu, channel):
        async with running_warroom(emu, url, bench_config(channel)) as warroom:  # type: ignore[arg-type]
            yield UnderTest([f"http://127.0.0.1:{warroom.http_port}/signals"], warroom.deps.sessions, runtime=warroom,
                            emulator_pid=emu._proc.pid if isinstance(emu, RemoteEmulator) and emu._proc else None,
                            emulator=emu)


def children_cpu() -> float:
    """CPU seconds of this process's reaped children (the sender, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def sustained(url: str, label: str, rate: float, seconds: float, separate: bool, replicas: int = 0) -> None:
    """A steady open-loop stream at `rate`/s for `seconds`: queue depth and lag over time."""
    await upgrade_async(url)
    users = max(1, int(rate * seconds) // 10)
    depth_query = select(func.count(), func.min(SignalInstance.received_at)).where(
        SignalInstance.status == SignalStatus.PENDING)
    samples: list[tuple[float, int, float]] = []
    async with warroom_under_test(url, replicas, separate) as warroom:
        sessions = warroom.sessions
        cpu, emu_cpu, sender_cpu = warroom.cpu(), warroom.emulator_cpu(), children_cpu()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--load", ",".join(warroom.endpoints),
            "--rate", str(rate), "--seconds", str(seconds), "--users", str(users), stdout=asyncio.subprocess.PIPE)
        began = time.perf_counter()
        sender = asyncio.create_task(proc.communicate())
        steady_profile = os.environ.get("BENCH_PROFILE_STEADY")  # a file: cProfile of warroom over the stream
        profiler = cProfile.Profile() if steady_profile else None
        if profiler:
            profiler.enable()
        while not sender.done() or (samples and samples[-1][1]):
            await asyncio.sleep(1.0)
            async with sessions() as session:
                depth, oldest = (await session.execute(depth_query)).one()
            age = (utcnow() - oldest).total_seconds() if oldest else 0.0
            samples.append((time.perf_counter() - began, depth, age))
            if time.perf_counter() - began > seconds + 600:
                break
        out, _ = await sender
        if profiler and steady_profile:
            profiler.disable()
            profiler.dump_stats(steady_profile)
        cpu = warroom.cpu() - cpu
        emu_cpu = (warroom.emulator_cpu() or 0.0) - emu_cpu if emu_cpu is not None else None
        sender_cpu = children_cpu() - sender_cpu
        async with sessions() as session:
            lags = [(done - got).total_seconds() for got, done in (await session.execute(
                select(SignalInstance.received_at, SignalInstance.processed_at)
                .where(SignalInstance.processed_at.is_not(None)))).all()]
            stored = (await session.execute(select(func.count()).select_from(SignalInstance))).scalar_one()
            duplicates = await duplicate_effects(warroom, session)
    result = json.loads(out.decode().strip().splitlines()[-1])
    lat = result["latencies"]
    accepted = result["statuses"].get("202", 0) + result["statuses"].get("200", 0)
    total = samples[-1][0] if samples else 0.0
    print(f"{label}: steady {rate:.0f}/s for {seconds:.0f} s, {warroom.shape()}, statuses {result['statuses']}")
    print(f"  accepted/s {accepted / result['wall']:.0f}   request latency p50 {pct(lat, 0.5):.1f} ms  "
          f"p99 {pct(lat, 0.99):.1f} ms")
    print(f"  processed/s {len(lags) / total:.0f} over {total:.0f} s (first request → queue empty)   "
          f"lost {accepted - stored}   {duplicates}")
    print(f"  processing lag (received → processed) p50 {pct(lags, 0.5):.0f} ms  p99 {pct(lags, 0.99):.0f} ms")
    print(f"  queue depth max {max(d for _, d, _ in samples)}, oldest pending max {max(a for _, _, a in samples):.1f} s")
    print(f"  {cpu_line(cpu, emu_cpu, sender_cpu, max(len(lags), 1), total)}")
    step = max(1, len(samples) // 12)
    print("  t (s) / depth / oldest pending (s): " + ", ".join(
        f"{t:.0f}/{d}/{a:.1f}" for t, d, a in samples[::step]))


def cpu_line(cpu: float, emu_cpu: float | None, sender_cpu: float, alerts: int, wall: float) -> str:
    line = f"CPU per alert: warroom {cpu * 1e6 / alerts:.0f} µs ({cpu / wall:.2f} cores)"
    if emu_cpu is not None:
        line += f", emulator {emu_cpu * 1e6 / alerts:.0f} µs"
    return line + f", sender {sender_cpu * 1e6 / alerts:.0f} µs"


async def duplicate_effects(warroom: UnderTest, session: Any) -> str:
    """What two replicas must never do twice. Every alert of a user after the first joins that user's
    case (one filter on the user entity, 1 h window, no case closes), so cases = distinct users; a card
    is posted once per case; and each alert processed exactly once is stored as one row, processed."""
    cases = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
    users = (await session.execute(text(
        "SELECT count(DISTINCT value) FROM signal_entity WHERE entity_type = 'user'"))).scalar_one()
    began = time.perf_counter()
    while True:  # the card tasks post new cases' cards after their batches commit, 4 at a time
        cards = await warroom.card_posts()
        unposted = (await session.execute(select(func.count()).select_from(Case)
                                          .where(col(Case.card_ts).is_(None)))).scalar_one()
        await session.commit()  # on SQLite an open transaction holds the write lock the card tasks need
        if (cards >= cases and not unposted) or time.perf_counter() - began > 60:
            break
        await asyncio.sleep(0.2)
    batches = (await session.execute(text(  # a batch marks its instances processed with one timestamp
        "SELECT count(DISTINCT processed_at) FROM signal_instance WHERE processed_at IS NOT NULL"))).scalar_one()
    done = (await session.execute(text(
        "SELECT count(*) FROM signal_instance WHERE processed_at IS NOT NULL"))).scalar_one()
    return (f"batches {batches} (mean {done / max(batches, 1):.0f} alerts), "
            f"cases {cases} for {users} users, cards posted {cards} for {cases - unposted} cases with a card "
            f"(the last {time.perf_counter() - began:.1f} s after the queue drained)")


async def fresh_postgres(name: str) -> str:
    engine = create_engine(POSTGRES_ADMIN)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"


@asynccontextmanager
async def slack_emulator(separate: bool) -> AsyncIterator[tuple[SlackEmulator | RemoteEmulator, str]]:
    """The emulator with a triage channel: in this process, or (`separate`) in its own."""
    if separate:
        async with emulator_process(["sec-triage"]) as remote:
            yield remote, remote.channels["sec-triage"]
        return
    emu = SlackEmulator()
    await emu.start()
    try:
        yield emu, emu.add_channel("sec-triage")
    finally:
        await emu.stop()


async def run(url: str, label: str, requests: int, clients: int, worker_paused: bool = False,
              profile: bool = False, separate: bool = False, replicas: int = 0) -> None:
    await upgrade_async(url)
    if os.environ.get("BENCH_SLOW_CALLBACKS"):  # name what holds the event loop for more than 50 ms
        asyncio.get_running_loop().set_debug(True)
        asyncio.get_running_loop().slow_callback_duration = 0.05
    if os.environ.get("BENCH_GC"):  # how long the garbage collector held the process, by generation
        gc_started: list[float] = []

        def on_gc(phase: str, info: dict) -> None:
            if phase == "start":
                gc_started.append(time.perf_counter())
            elif gc_started:
                GC_PAUSES.append((info["generation"], time.perf_counter() - gc_started.pop()))

        gc.callbacks.append(on_gc)
    users = max(1, requests // 10)  # first alert of each user opens a case: ~10% cases, ~90% duplicates
    status = select(SignalInstance.status, func.count(), func.min(SignalInstance.received_at)).group_by(
        SignalInstance.status)
    depths: list[int] = []
    async with warroom_under_test(url, replicas, separate) as warroom:
        sessions = warroom.sessions
        if not replicas and not os.environ.get("BENCH_GC_DEFAULT"):
            settle_after_start()  # as `python -m bot` does once started (replicas are such processes)
        if worker_paused:
            await warroom.runtime.signal_worker.stop()
        began, cpu, emu_cpu, sender_cpu = time.perf_counter(), warroom.cpu(), warroom.emulator_cpu(), children_cpu()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--load", ",".join(warroom.endpoints), "--requests", str(requests),
            "--clients", str(clients), "--users", str(users), stdout=asyncio.subprocess.PIPE)
        intake_profile = os.environ.get("BENCH_PROFILE_INTAKE")  # a file: cProfile of warroom while it takes the posts
        intake_profiler = cProfile.Profile() if intake_profile else None
        if intake_profiler:
            intake_profiler.enable()
        sender = asyncio.create_task(proc.communicate())
        while not sender.done():  # the queue's depth while posting
            await asyncio.sleep(0.25)
            async with sessions() as session:
                counts = {row[0]: row[1] for row in (await session.execute(status)).all()}
            depths.append(counts.get(SignalStatus.PENDING, 0))
        out, _ = await sender
        if intake_profiler and intake_profile:
            intake_profiler.disable()
            intake_profiler.dump_stats(intake_profile)
        sender_cpu = children_cpu() - sender_cpu
        result = json.loads(out.decode().strip().splitlines()[-1])
        accepted = result["statuses"].get("202", 0) + result["statuses"].get("200", 0)
        profiler = cProfile.Profile() if profile else None
        if worker_paused:  # processing measured on its own, from the full queue
            began, cpu = time.perf_counter(), warroom.cpu()
            emu_cpu = warroom.emulator_cpu()
            if profiler:
                profiler.enable()
            warroom.runtime.signal_worker = SignalWorker(warroom.runtime.deps)
            warroom.runtime.signal_worker.start()
        counting = counted_statements([warroom.runtime.engine, warroom.runtime.ack_engine]) \
            if worker_paused and os.environ.get("BENCH_STATEMENTS") else contextlib.nullcontext(Counter[str]())
        with counting as statements:
            while True:
                async with sessions() as session:
                    counts = {row[0]: row[1] for row in (await session.execute(status)).all()}
                done = counts.get(SignalStatus.PROCESSED, 0)
                depths.append(counts.get(SignalStatus.PENDING, 0))
                if done >= accepted or time.perf_counter() - began > 600:
                    break
                await asyncio.sleep(0.05)
        drained = time.perf_counter() - began
        cpu = warroom.cpu() - cpu
        emu_cpu = (warroom.emulator_cpu() or 0.0) - emu_cpu if emu_cpu is not None else None
        if profiler:
            profiler.disable()
            if os.environ.get("BENCH_PROFILE_OUT"):
                profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(os.environ.get("BENCH_FILTER", ""), 30)
        async with sessions() as session:
            stored = (await session.execute(select(func.count()).select_from(SignalInstance))).scalar_one()
            outcomes = dict((await session.execute(select(SignalInstance.outcome, func.count())
                                                   .group_by(SignalInstance.outcome))).all())
            lags = [(finished - got).total_seconds() for got, finished in (await session.execute(
                select(SignalInstance.received_at, SignalInstance.processed_at)
                .where(SignalInstance.processed_at.is_not(None)))).all()]
            duplicates = await duplicate_effects(warroom, session)
    ceiling = await raw_insert_rate(url, min(requests, 5000), clients)
    batch_ceiling = await batch_insert_rate(url, min(requests, 5000))
    lat = result["latencies"]
    mode = "worker paused while posting" if worker_paused else "worker running"
    print(f"{label}: {requests} requests, {clients} clients, {mode}, {warroom.shape()}, statuses {result['statuses']}")
    print(f"  accepted/s {accepted / result['wall']:.0f}   latency p50 {pct(lat, 0.5):.1f} ms  p99 {pct(lat, 0.99):.1f} ms")
    print(f"  processed/s {done / drained:.0f} (drained in {drained:.1f} s)   "
          f"duplicates {outcomes.get('deduplicated', 0)}   lost {accepted - stored}   {duplicates}")
    print(f"  processing lag (received → processed) p50 {pct(lags, 0.5):.0f} ms  p99 {pct(lags, 0.99):.0f} ms   "
          f"queue depth max {max(depths, default=0)}")
    print(f"  {cpu_line(cpu, emu_cpu, sender_cpu, max(done, 1), drained)} "
          f"({'processing only' if worker_paused else 'intake and processing'})")
    if statements:  # (with the bench's own polling of the queue, about 20 a second)
        print(f"  {describe(statements, max(done, 1), 'alert')}")
    if GC_PAUSES:
        by_gen = {g: [d for gen, d in GC_PAUSES if gen == g] for g in sorted({g for g, _ in GC_PAUSES})}
        print("  garbage collection: " + ", ".join(
            f"gen {g} {len(ds)}× max {max(ds) * 1000:.0f} ms, total {sum(ds) * 1000:.0f} ms" for g, ds in by_gen.items()))
    print(f"  raw single-row insert ceiling {ceiling:.0f} rows/s; one multi-row insert {batch_ceiling:.0f} rows/s "
          f"(processed/s is {done / drained / batch_ceiling:.0%} of it)")


async def main(args: argparse.Namespace) -> None:
    if args.rate:
        if args.database in ("sqlite", "both"):
            with tempfile.TemporaryDirectory() as tmp:
                await sustained(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.rate, args.seconds,
                                args.separate_emulator)
        if args.database in ("postgres", "both"):
            await sustained(await fresh_postgres("warroom_bench_signals"), "Postgres", args.rate, args.seconds,
                            args.separate_emulator, args.replicas)
        return
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.requests, args.clients,
                      args.worker_paused, args.profile, args.separate_emulator)
    if args.database in ("postgres", "both"):
        await run(await fresh_postgres("warroom_bench_signals"), "Postgres", args.requests, args.clients,
                  args.worker_paused, args.profile, args.separate_emulator, args.replicas)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--worker-paused", action="store_true",
                        help="post with the worker stopped, then time processing the full queue on its own")
    parser.add_argument("--profile", action="store_true", help="with --worker-paused: cProfile the drain, print the top costs")
    parser.add_argument("--separate-emulator", action="store_true", help="run the Slack emulator in its own process")
    parser.add_argument("--rate", type=float, default=0, help="a steady open-loop stream of this many alerts/s ...")
    parser.add_argument("--seconds", type=float, default=120, help="... for this long: prints queue depth and lag")
    parser.add_argument("--replicas", type=int, default=0,
                        help="run N warroom replicas (`python -m bot` processes) on one Postgres database, requests "
                             "spread round-robin across them (Postgres only; the emulator in its own process)")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replicas < 0:
        parser.error("--replicas: give a number of replicas, 1 or more")
    if args.replicas and args.database != "postgres":
        parser.error("--replicas runs several warroom processes on one database, which needs Postgres (SQLite "
                     "has one writer, for one process): add --database postgres")
    if args.replicas and (args.worker_paused or args.profile):
        parser.error("--worker-paused and --profile act on the in-process warroom: leave out --replicas "
                     "(to profile a replica, attach py-spy to its process)")
    if args.load and args.rate:
        asyncio.run(steady(args.load.split(","), args.rate, args.seconds, args.users, seed=7))
    elif args.load:
        asyncio.run(load(args.load.split(","), args.requests, args.clients, args.users, seed=7))
    else:
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(main(args))
