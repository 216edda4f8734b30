"""Chaos: two bot processes (replicas) on one Postgres database, started apart, with 30 incident reports,
200 alert signals and every scheduled job ticking every few seconds on each process's own clock.

Asserted on what Slack saw (counted in the emulator): each incident has one channel, one summary, one
announcement and one confirmation; each case one card; no job ran twice in one interval (their runs,
logged with their interval slot by both processes, never share a slot) and the daily summary, run every
3 s here, posted once per run. Postgres only: SQLite is one writer, for one process.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from domain.core.vocabulary import SignalStatus
from emulators.slackemu import SlackEmulator
from storage import db
from storage.case_models import Case
from storage.models import Incident
from storage.signal_models import SignalInstance
from tests.e2e.incident_helpers import GOOD, REPORT

REPORTS, SIGNALS = 30, 200  # as issue 10 asks
INTERVALS = {"resume_incident_setups": 1.0, "report_reminders": 2.0, "task_reminders": 2.0, "cost_polling": 2.0,
             "feedback_digest": 3.0, "daily_summary": 3.0}
STAGGER = 1.3  # seconds between the two starts: their job ticks never line up
TICKING = 8.0  # seconds both run their jobs after the work is done
FAILOVER = 4.0  # seconds the second replica runs alone after the first stopped
BOUND = 60.0
TOKEN = "chaos-token"
RUNNING = re.compile(r"job (\S+) running \(slot (\d+)\)")
DONE = re.compile(r"job (\S+) done \(slot (\d+)\): (\S+)")

pytestmark = pytest.mark.skipif(os.environ.get("WARROOM_TEST_DB", "sqlite").lower() != "postgres",
                                reason="replicas share a Postgres database")


def _config(notify: str, triage: str) -> str:
    return f"""
notification_channels:
  - {{name: incidents, channel: {notify}}}
signals:
  sources:
    - {{name: siem, auth: bearer, token: {TOKEN}}}
  entity_types:
    - {{name: user, jsonpath: "$.detail.user"}}
  definitions:
    - {{name: Unusual login, external_id: login-1, conversation_target: {triage}, entity_types: [user]}}
    - {{name: Port scan, external_id: scan-1, conversation_target: {triage}}}
"""


def _env(slack: SlackEmulator, db_url: str, config: Path, instance: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_", "HTTP_",
                                                                     "JOB_"))}
    env.update(SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token, SLACK_API_URL=slack.api_url,
               DATABASE_URL=db_url, HTTP_HOST="127.0.0.1", HTTP_PORT="0", WARROOM_CONFIG=str(config),
               LOG_LEVEL="INFO", WARROOM_INSTANCE=instance, JOB_INTERVALS=__import__("json").dumps(INTERVALS))
    return env


async def _spawn(env: dict, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env, cwd=log.parent,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)


async def _http_port(log: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        found = re.search(r"HTTP on 127\.0\.0\.1:(\d+)", log.read_text()) if log.exists() else None
        if found:
            return int(found.group(1))
        await asyncio.sleep(0.1)
    raise AssertionError(f"{log.name}: the bot never said it was running\n{log.read_text()[-3000:]}")


async def _report(slack: SlackEmulator, gate: asyncio.Semaphore, reporter: str, origin: str, title: str) -> None:
    """As a person would: run the command, fill the form, submit again while it says to try again (or
    while Slack says warroom did not answer: on this shared machine an ack can miss Slack's 3 s)."""
    async with gate:
        for _ in range(5):
            try:
                await slack.slash_command(reporter, REPORT, channel=origin)
                break
            except TimeoutError:
                await asyncio.sleep(0.5)
        [view] = await slack.wait_for(lambda: slack.open_views(reporter)[-1:], timeout=30)
        answer = None
        for _ in range(5):
            try:
                answer = await slack.submit_view(reporter, view.id, {**GOOD, "title": title})
            except TimeoutError:  # the same view again: stored once (its id is the idempotency key)
                await asyncio.sleep(0.5)
                if view.id not in {v.id for v in slack.open_views(reporter)}:
                    return  # the late ack closed it: stored
                continue
            if not (answer.ack_payload or {}).get("errors"):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"{title}: not accepted after five submissions: {answer and answer.ack_payload}")


async def _signal(http: aiohttp.ClientSession, gate: asyncio.Semaphore, port: int, n: int) -> None:
    definition = "login-1" if n % 2 else "scan-1"
    raw = {"id": str(uuid.uuid4()), "externalId": definition, "name": "alert",
           "detail": {"user": f"user-{n % 10}", "message": f"alert {n}"}}
    url = f"http://127.0.0.1:{port}/api/v1/default/signals/instances"
    async with gate, http.post(url, json={"project": {"name": "default"}, "raw": raw},
                               headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
        assert resp.status == 202, await resp.text()


async def test_two_replicas_make_every_slack_effect_once_and_run_each_job_once_per_interval(
        slack, people, engine, db_url, tmp_path):
    started = time.monotonic()
    notify = slack.add_channel("incidents", members=[people.bob], bot_member=True)
    triage = slack.add_channel("triage", members=[people.bob], bot_member=True)
    config = tmp_path / "warroom.yaml"
    config.write_text(_config(notify, triage))
    logs = [tmp_path / "bot-a.log", tmp_path / "bot-b.log"]
    bots = [await _spawn(_env(slack, db_url, config, "replica-a"), logs[0])]
    await asyncio.sleep(STAGGER)
    bots.append(await _spawn(_env(slack, db_url, config, "replica-b"), logs[1]))
    sessions = db.session_factory(engine)
    try:
        ports = [await _http_port(log, started + 30) for log in logs]
        reporters = []
        for n in range(REPORTS):
            reporter = slack.add_user(f"reporter-{n}")
            slack.channels[people.general].members.add(reporter)
            reporters.append(reporter)
        people_at_once, posts_at_once = asyncio.Semaphore(6), asyncio.Semaphore(10)
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(
                *(_report(slack, people_at_once, r, people.general, f"Replica chaos {n}") for n, r in enumerate(reporters)),
                *(_signal(http, posts_at_once, ports[n % 2], n) for n in range(SIGNALS)))
        print(f"reported and signalled {time.monotonic() - started:.1f} s after the first start")

        async def done() -> bool:
            async with sessions() as session:
                ready = (await session.execute(select(func.count()).select_from(Incident)
                                               .where(Incident.setup_state == "ready"))).scalar_one()
                pending = (await session.execute(select(func.count()).select_from(SignalInstance)
                                                 .where(SignalInstance.status == SignalStatus.PENDING))).scalar_one()
                unposted = (await session.execute(select(func.count()).select_from(Case)
                                                  .where(Case.card_ts.is_(None)))).scalar_one()
            return ready == REPORTS and pending == 0 and unposted == 0

        await slack.wait_for(done, timeout=max(5.0, BOUND - TICKING - (time.monotonic() - started)), interval=0.2)
        await asyncio.sleep(TICKING)
        # Whichever replica fires first in a slot runs it, and their clocks keep the same phase, so one
        # may win every slot while both run. When it stops, the other must take every job over.
        bots[0].send_signal(signal.SIGTERM)
        await asyncio.wait_for(bots[0].wait(), 15)
        alone_from = len(logs[1].read_text())
        await asyncio.sleep(FAILOVER)
    except BaseException:
        for log in logs:
            print(log.name, log.read_text()[-6000:])
        raise
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
        for bot in bots:
            try:
                await asyncio.wait_for(bot.wait(), 15)
            except TimeoutError:
                bot.kill()
                await bot.wait()
    text = [log.read_text() for log in logs]
    assert all(bot.returncode == 0 for bot in bots), "\n".join(t[-3000:] for t in text)

    async with sessions() as session:
        incidents = (await session.execute(select(Incident))).scalars().all()
        cases = (await session.execute(select(Case))).scalars().all()
    assert len(incidents) == REPORTS
    problems = []
    for incident in incidents:
        n = incident.title.rsplit(" ", 1)[-1]
        channels = [c for c in slack.channels.values() if re.fullmatch(rf"inc-\d+-replica-chaos-{n}(-\d+)?", c.name)]
        if len(channels) != 1:
            problems.append(f"{incident.name}: {len(channels)} channels")
            continue
        summaries = [m for m in channels[0].messages if m.user == slack.bot_user_id and m.text == f"{incident.name}: "
                     f"{incident.title}"]
        if len(summaries) != 1:
            problems.append(f"{incident.name}: {len(summaries)} summaries")
        announcements = [m for m in slack.channels[notify].messages
                         if m.text.startswith(f"{incident.name}: {incident.title} (")]
        if len(announcements) != 1:
            problems.append(f"{incident.name}: {len(announcements)} announcements")
    confirmations = Counter(e["user"] for e in slack.ephemerals if "is ready and you are its incident commander"
                            in e["text"])
    problems += [f"{n} confirmations to {u}" for u, n in confirmations.items() if n != 1]
    if len(confirmations) != REPORTS:
        problems.append(f"{len(confirmations)} reporters confirmed")
    cards = Counter(m.text.split(":", 1)[0] for m in slack.channels[triage].messages
                    if m.text.startswith("CASE-") and not m.thread_ts)
    problems += [f"{name}: {n} cards" for name, n in cards.items() if n != 1]
    if sorted(cards) != sorted(c.name for c in cases):
        problems.append(f"cards {sorted(cards)} for cases {sorted(c.name for c in cases)}")
    assert not problems, "\n".join(problems)

    logged = [m.groups() for t in text for m in DONE.finditer(t)]
    runs = [m.groups() for t in text for m in RUNNING.finditer(t)]  # with those cut short by the shutdown
    by_job = Counter(runs)
    assert not [r for r, n in by_job.items() if n > 1], f"a job ran twice in one interval: {by_job}"
    for job, period in INTERVALS.items():
        slots = sorted(int(s) for j, s in runs if j == job)
        assert len(slots) >= TICKING / period - 1, f"{job} ran {len(slots)} times"
    alone = {m.group(1) for m in DONE.finditer(text[1][alone_from:])}
    assert {"resume_incident_setups", "report_reminders"} <= alone, f"after the first replica stopped: {alone}"
    summaries = [m for m in slack.channels[notify].messages if m.text.startswith("Incident summary:")]
    posted = sum(int(result) for job, _, result in logged if job == "daily_summary")  # 0 while there were no incidents
    cut_short = len([r for r in runs if r[0] == "daily_summary"]) - len([r for r in logged if r[0] == "daily_summary"])
    assert posted >= 1 and posted <= len(summaries) <= posted + cut_short, "each run of the daily summary posted once"
    assert time.monotonic() - started < BOUND + FAILOVER + 30
