"""Chaos: the bot process is killed (SIGKILL) in the middle of every incident set-up step, restarted,
and each incident ends up set up exactly once.

The bot runs as a real subprocess (`python -m bot`) against the emulator served by this test over
loopback, on the test database. One incident is reported per step of STEPS (each by its own
reporter, with its own title); the emulator hangs that incident's Web API call of that step —
before Slack acts on it, or after (Slack did it, the reply is lost) — so when every incident is
stuck in its step, one SIGKILL interrupts them all. The restart is the bot again (`python -m bot`,
the same replica): it must take its own interrupted set-ups back within seconds, not wait for their
leases. Then each incident must have exactly one channel with its reporter and the engaged person in it,
one summary (pinned), one bookmark, one confirmation and one announcement.

Killing once for all steps keeps the module to two bot processes (~10 s) instead of two per step.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from emulators.slackemu import SlackEmulator
from storage import db
from storage.models import Incident
from tests.e2e.incident_helpers import GOOD, REPORT

STARTUP_TIMEOUT = 20.0
# Restarted, the bot finishes its interrupted set-ups in a few seconds (bench/resume_time.py prints the
# figure); the bound is generous for a loaded machine, and far below the old 2-minute lease + 1-minute job.
RESUME_BOUND = 45.0
SETTLE = 0.5  # the bot's other calls are over when the emulator has seen none for this long


@dataclass(frozen=True)
class Step:
    method: str
    after: bool  # the call takes effect in Slack (the reply is lost) before the kill
    # (emulator, call arguments, the case) -> is this the case's call of the step
    matches: Callable[[SlackEmulator, dict, Case], bool]


@dataclass
class Case:
    step: str
    reporter: str
    title: str
    engaged: str
    notify: str
    origin: str


def _channel_of(emu: SlackEmulator, params: dict, case: Case, key: str = "channel") -> bool:
    channel = emu.channels.get(str(params.get(key) or ""))
    return channel is not None and _is_case_channel(channel.name, case)


def _is_case_channel(name: str, case: Case) -> bool:
    return re.fullmatch(rf"inc-\d+-checkout-chaos-{case.step}(-\d+)?", name) is not None


STEPS: dict[str, Step] = {
    "create-done": Step("conversations.create", True, lambda e, p, c: _is_case_channel(p.get("name", ""), c)),
    "create-in-flight": Step("conversations.create", False, lambda e, p, c: _is_case_channel(p.get("name", ""), c)),
    "users-info": Step("users.info", False, lambda e, p, c: p.get("user") == c.reporter),
    "invite-reporter": Step("conversations.invite", True,
                            lambda e, p, c: p.get("users") == c.reporter and _channel_of(e, p, c)),
    "invite-engaged": Step("conversations.invite", False,
                           lambda e, p, c: p.get("users") == c.engaged and _channel_of(e, p, c)),
    "topic": Step("conversations.setTopic", True, _channel_of),
    "summary-done": Step("chat.postMessage", True, _channel_of),
    "summary-in-flight": Step("chat.postMessage", False, _channel_of),
    "pin": Step("pins.add", True, _channel_of),
    "bookmark": Step("bookmarks.add", True, lambda e, p, c: _channel_of(e, p, c, "channel_id")),
    "confirmation": Step("chat.postEphemeral", False, lambda e, p, c: p.get("channel") == c.origin
                         and p.get("user") == c.reporter),
    "announcement-done": Step("chat.postMessage", True, lambda e, p, c: p.get("channel") == c.notify
                              and c.title in str(p.get("text"))),
    "announcement-in-flight": Step("chat.postMessage", False, lambda e, p, c: p.get("channel") == c.notify
                                   and c.title in str(p.get("text"))),
}


def _bot_env(slack: SlackEmulator, db_url: str, config: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_", "HTTP_"))}
    env.update(SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token, SLACK_API_URL=slack.api_url,
               DATABASE_URL=db_url, HTTP_HOST="127.0.0.1", HTTP_PORT="0", WARROOM_CONFIG=str(config), LOG_LEVEL="INFO")
    return env


async def _spawn(env: dict, log: Path, *args: str) -> asyncio.subprocess.Process:
    # Output goes to a file (a pipe nobody reads could fill up and block the bot); cwd has no .env.
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=env, cwd=log.parent,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)


async def _settled(slack: SlackEmulator) -> None:
    """Wait until the bot's calls other than the hung ones are over (none new for SETTLE s)."""
    deadline = time.monotonic() + 10
    seen, since = len(slack.calls), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if len(slack.calls) != seen:
            seen, since = len(slack.calls), time.monotonic()
        elif time.monotonic() - since >= SETTLE:
            return


def _problems(slack: SlackEmulator, case: Case, incident: Incident | None) -> list[str]:
    """What is wrong with the case's incident after the restart (nothing: empty)."""
    if incident is None or incident.setup_state != "ready":
        return [f"not set up: {incident and (incident.setup_state, incident.setup_error)}"]
    problems = []
    channels = [c for c in slack.channels.values() if not c.is_im and _is_case_channel(c.name, case)]
    if [c.id for c in channels] != [incident.channel_id]:
        problems.append(f"channels {[(c.name, len(c.members)) for c in channels]}, recorded {incident.channel_name}")
    channel = slack.channels[incident.channel_id]
    summaries = [m for m in channel.messages if m.user == slack.bot_user_id and m.text == f"{incident.name}: {case.title}"]
    if len(summaries) != 1:
        problems.append(f"{len(summaries)} summaries")
    elif channel.pins != {summaries[0].ts}:
        problems.append(f"pinned {channel.pins}, summary {summaries[0].ts}")
    if len(channel.bookmarks) != 1 or (summaries and not channel.bookmarks[0]["link"].endswith(
            summaries[0].ts.replace(".", ""))):
        problems.append(f"bookmarks {[b['link'] for b in channel.bookmarks]}")
    missing = {case.reporter, case.engaged} - channel.members
    if missing:
        problems.append(f"not invited: {missing}")
    confirmations = [e for e in slack.ephemerals if e["user"] == case.reporter and e["channel"] == case.origin
                     and "is ready and you are its incident commander" in e["text"]]
    if len(confirmations) != 1:
        problems.append(f"{len(confirmations)} confirmations")
    announcements = [m for m in slack.channels[case.notify].messages if case.title in m.text]
    if len(announcements) != 1:
        problems.append(f"{len(announcements)} announcements")
    return problems


async def test_killed_inside_every_setup_step_then_restarted_sets_each_incident_up_once(
        slack, people, engine, db_url, tmp_path):
    notify = slack.add_channel("incidents", members=[people.bob])
    cases = {}
    for step in STEPS:
        reporter = slack.add_user(f"reporter-{step}")
        slack.channels[people.general].members.add(reporter)
        cases[step] = Case(step, reporter, f"Checkout chaos {step}", people.bob, notify, people.general)
    hangs = {step: slack.hang(s.method, after=s.after, when=lambda p, s=s, c=cases[step]: s.matches(slack, p, c))
             for step, s in STEPS.items()}
    config = tmp_path / "warroom.yaml"
    config.write_text(f"notification_channels:\n  - {{name: incidents, channel: {notify}}}\n"
                      f"engagement:\n  individuals:\n    - {{name: Bob, user: {people.bob}, terms: [chaos]}}\n")
    env, log = _bot_env(slack, db_url, config), tmp_path / "bot.log"

    bot = await _spawn(env, log)
    try:
        await slack.wait_connected(STARTUP_TIMEOUT)
        for case in cases.values():
            before = set(slack.views)
            await slack.slash_command(case.reporter, REPORT, channel=case.origin)
            [view] = await slack.wait_for(lambda c=case, b=before: [v for v in slack.open_views(c.reporter) if v.id not in b])
            await slack.submit_view(case.reporter, view.id, {**GOOD, "title": case.title})
        for step, hang in hangs.items():
            try:
                await hang.wait_reached(10)
            except TimeoutError:
                raise AssertionError(f"{step}: the bot never made that call\n{log.read_text()}") from None
        await _settled(slack)
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGKILL)
        await bot.wait()
    slack.faults.release_hangs()
    assert bot.returncode == -signal.SIGKILL, log.read_text()

    # The same replica restarts (same host name): it takes its own set-ups back as soon as their
    # heartbeat has gone silent, without waiting for the lease to run out or for the resume job.
    sessions = db.session_factory(engine)
    restarted = time.monotonic()
    restart = await _spawn(env, log)
    try:
        unfinished = await _wait_all_ready(sessions, len(cases), RESUME_BOUND)
        assert not unfinished, (f"{len(unfinished)} set-ups unfinished {RESUME_BOUND:.0f} s after the restart: "
                                f"{unfinished}\n{log.read_text()[-4000:]}")
        took = time.monotonic() - restarted
        await _settled(slack)
    finally:
        restart.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(restart.wait(), 20)
        except TimeoutError:
            restart.kill()
            await restart.wait()

    async with sessions() as session:
        incidents = {i.title: i for i in (await session.execute(select(Incident))).scalars()}
    problems = {step: p for step, case in cases.items() if (p := _problems(slack, case, incidents.get(case.title)))}
    assert not problems, "\n".join(f"killed in {STEPS[s].method} ({s}): {'; '.join(p)}" for s, p in problems.items())
    print(f"all {len(cases)} interrupted set-ups finished {took:.1f} s after the restart")


async def _wait_all_ready(sessions, count: int, bound: float) -> list[str]:
    """Poll until `count` incidents are ready or `bound` seconds pass; the ones not ready."""
    deadline = time.monotonic() + bound
    while True:
        async with sessions() as session:
            incidents = (await session.execute(select(Incident))).scalars().all()
        unfinished = [f"{i.title}: {i.setup_state}" for i in incidents if i.setup_state != "ready"]
        if (len(incidents) == count and not unfinished) or time.monotonic() > deadline:
            return unfinished
        await asyncio.sleep(0.2)
