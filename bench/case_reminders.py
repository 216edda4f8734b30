"""Benchmark: the case reminder job over many waiting cases, through the Slack emulator.

Stores N waiting cases (New, Triage, Stable; a tenth of them due a reminder), then prints how long one run of
the job takes (claims + DMs), how long a second run takes (nothing due: the scan alone), and how many DMs each
sent. Two runs at once (two processes) send each reminder once: printed too.

    python bench/case_reminders.py [--cases 2000] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bot.harness import running_warroom
from domain.cases.reminders import remind_cases
from domain.cases.service import create_case
from domain.core.vocabulary import CaseStatus
from emulators.slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.types import utcnow


async def seed(runtime, people: list[str], count: int) -> int:
    """`count` cases, one in ten due (New for 5 h, or Triage unchanged for 4 days); returns how many are due."""
    due = 0
    now = utcnow()
    async with runtime.deps.sessions() as session:
        for i in range(count):
            case, _ = await create_case(session, runtime.deps.config, title=f"bench case {i}",
                                        assignee=people[i % len(people)], reporter=people[0])
            status = (CaseStatus.NEW, CaseStatus.TRIAGE, CaseStatus.STABLE)[i % 3]
            case.status = status
            age = timedelta(hours=5) if status == CaseStatus.NEW else timedelta(days=4)
            if i % 10 == 0:
                case.created_at = now - age
                due += 1
            if i % 50 == 49:  # short transactions: the signal worker shares SQLite
                await session.commit()
        await session.commit()
    # Every timeline entry is as old as its case (the "last change").
    async with runtime.deps.sessions() as session:
        await session.execute(text(
            'UPDATE case_event SET started_at = (SELECT created_at FROM "case" WHERE "case".id = case_event.case_id)'))
        await session.commit()
    return due


async def main(count: int, database_url: str | None) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        emu = SlackEmulator()
        await emu.start()
        try:
            people = [emu.add_user(f"analyst{i}") for i in range(20)]
            async with running_warroom(emu, url) as runtime:
                due = await seed(runtime, people, count)
                print(f"case reminders benchmark: {count} waiting cases, {due} due, database {url.split(':')[0]}")
                for label in ("first run", "second run (nothing due)"):
                    started = time.perf_counter()
                    sent = await remind_cases(runtime.deps)
                    print(f"{label:>26}: {(time.perf_counter() - started) * 1000:8.0f} ms, {sent} DMs")
                async with runtime.deps.sessions() as session:
                    await session.execute(text(
                        "DELETE FROM case_event WHERE dedupe_key LIKE 'case:%:remind:%'"))
                    await session.commit()
                started = time.perf_counter()
                sent = await asyncio.gather(remind_cases(runtime.deps), remind_cases(runtime.deps))
                print(f"{'two runs at once':>26}: {(time.perf_counter() - started) * 1000:8.0f} ms, "
                      f"{sent[0]} + {sent[1]} DMs (due: {due})")
        finally:
            await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.database_url))
