"""The Slack emulator in a process of its own, so a benchmark measures warroom's CPU, not the emulator's.

    async with emulator_process(channels=["sec-triage"], latency=0.1) as emu:
        emu.api_url, emu.bot_token, emu.app_token, emu.channels["sec-triage"]
        await emu.ask({"op": "burst", "latency": 0.1})  # people act in the child (`users`)

The child prints one JSON line with what the parent needs, then answers one JSON line per request line
on its stdin, and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report_burst import report_burst
from emulators.slackemu import SlackEmulator


@dataclass
class RemoteEmulator:
    api_url: str
    bot_token: str
    app_token: str
    channels: dict[str, str]
    users: list[str]
    subscribed_events: set[str] | None = None  # (set by the harness; the child subscribes to everything)
    _proc: asyncio.subprocess.Process | None = None

    async def ask(self, request: dict[str, Any]) -> Any:
        """Run `request` in the child: `burst` (bench.report_burst over all its users, at `latency`),
        `calls` (Web API calls so far) or `posts` (the bot's top-level messages per channel name)."""
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request).encode() + b"\n")
        await self._proc.stdin.drain()
        return json.loads(await self._proc.stdout.readline())

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """The child cannot be asked; a connection to a local emulator takes well under this."""
        await asyncio.sleep(0.5)


@asynccontextmanager
async def emulator_process(channels: list[str], latency: float = 0.0, users: int = 0,
                           ) -> AsyncIterator[RemoteEmulator]:
    """The child with `channels` (the bot in each; `users` people, members of every channel)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--channels", ",".join(channels), "--latency", str(latency), "--users", str(users),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2 ** 24)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        info = json.loads((await asyncio.wait_for(proc.stdout.readline(), 30)).decode())
        yield RemoteEmulator(**info, _proc=proc)
    finally:
        proc.stdin.close()
        await proc.wait()


def top_level_posts(emu: SlackEmulator, channel: str) -> int:
    """The bot's messages in `channel` that are not thread replies (a case card is one)."""
    return sum(1 for m in emu.channels[channel].messages
               if m.user == emu.bot_user_id and m.thread_ts in (None, m.ts) and m.subtype is None)


async def serve(channels: list[str], latency: float, users: int) -> None:
    emu = SlackEmulator()
    await emu.start()
    emu.faults.latency = latency
    people = [emu.add_user(f"user{i}", real_name=f"User {i}") for i in range(users)]
    ids = {name: emu.add_channel(name, members=people) for name in channels}
    print(json.dumps({"api_url": emu.api_url, "bot_token": emu.bot_token, "app_token": emu.app_token,
                      "channels": ids, "users": people}), flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):  # until the parent closes it
        request = json.loads(line)
        if request["op"] == "burst":
            answer: Any = await report_burst(emu, people, next(iter(ids.values())), request["latency"])
        elif request["op"] == "posts":
            answer = {name: top_level_posts(emu, channel) for name, channel in ids.items()}
        else:
            answer = len(emu.calls)
        print(json.dumps(answer), flush=True)
    await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--channels", default="")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--users", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve([c for c in args.channels.split(",") if c], args.latency, args.users))
