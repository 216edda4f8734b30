"""`python -m emulators.slackemu`: the local workspace on its own, to run a real bot against by hand.

It serves the Web API and Socket Mode on a loopback port, prints what to point a bot at
(`SLACK_API_URL`, `SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`) and then reads commands on standard input,
acting as the workspace's people: run a slash command, fill in and submit the modal it opened, say
something, read a channel. What the bot did in reply (messages, ephemerals, modals) is printed after
each command.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
from collections.abc import Callable
from typing import Any

from emulators.slackemu.emulator import SlackEmulator
from emulators.slackemu.forms import DriverError

HELP = """\
commands (as the current person, in the current channel):
  /command [text]          run a slash command, e.g. /dispatch-report-incident Checkout is down
  view                     the inputs of your open modal (block ids to use with submit)
  submit [BLOCK=VALUE]...  submit your open modal, e.g. submit title="Checkout down" incident_priority=High
  say TEXT                 post a message
  read [#channel] [N]      the last N (10) messages of a channel
  channels                 every channel, its id and members
  as NAME [#channel]       act as another person (and in another channel)
  calls                    Web API calls so far, by method
  help, quit"""


def _text(blocks: list[dict] | None, fallback: str) -> str:
    """A message's text as a person skims it: headers and sections, else the fallback text."""
    parts = []
    for block in blocks or []:
        if block.get("type") in ("header", "section") and block.get("text"):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
    return " | ".join(parts) or fallback


class Console:
    """Reads commands and acts through the emulator's driver; `out` prints."""

    def __init__(self, emu: SlackEmulator, people: list[str], channel: str, out: Callable[[str], None]) -> None:
        self.emu, self.out = emu, out
        self.user, self.channel = people[0], channel
        self.settle = 1.0  # seconds to let the bot answer before showing what changed

    def _person(self, name: str) -> str:
        found = next((u.id for u in self.emu.users.values() if name in (u.name, u.id)), None)
        if found is None:
            raise DriverError(f"nobody called {name} (people: {', '.join(u.name for u in self.emu.users.values())})")
        return found

    def _channel(self, name: str) -> str:
        name = name.lstrip("#")
        found = self.emu.channels.get(name) or self.emu.channel_by_name(name)
        if found is None:
            raise DriverError(f"no channel #{name}")
        return found.id

    def _snapshot(self) -> dict[str, Any]:
        return {"messages": {c.id: len(c.messages) for c in self.emu.channels.values()},
                "ephemerals": len(self.emu.ephemerals),
                "views": {v.id for v in self.emu.open_views(self.user)}}

    def _show_changes(self, before: dict[str, Any]) -> None:
        emu = self.emu
        for channel in list(emu.channels.values()):
            new = channel.messages[before["messages"].get(channel.id, 0):]
            if new and self.user in channel.members:
                where = f"DM from {emu.users[emu.bot_user_id].name}" if channel.is_im else f"#{channel.name}"
                for message in new:
                    author = emu.users[message.user].name if message.user in emu.users else message.user
                    self.out(f"  [{where}] {author}: {_text(message.blocks, message.text)}")
        for eph in emu.ephemerals[before["ephemerals"]:]:
            if eph["user"] == self.user:
                self.out(f"  (only you) {_text(eph['blocks'], eph['text'])}")
        for view in emu.open_views(self.user):
            if view.id not in before["views"]:
                self.out(f"  modal opened: {view.view.get('title', {}).get('text', view.id)} (view, then submit)")

    async def run_line(self, line: str) -> bool:
        """Do one command; False when asked to quit."""
        words = shlex.split(line.strip())
        if not words:
            return True
        head, rest = words[0], words[1:]
        before = self._snapshot()
        if head in ("quit", "exit"):
            return False
        if head == "help":
            self.out(HELP)
            return True
        if head.startswith("/"):
            await self.emu.slash_command(self.user, head, " ".join(rest), channel=self.channel)
        elif head == "say":
            await self.emu.post_message(self.user, self.channel, " ".join(rest))
        elif head == "submit":
            view = self._top_view()
            values = dict(word.split("=", 1) for word in rest if "=" in word)
            result = await self.emu.submit_view(self.user, view.id, values)
            for block_id, error in (result.ack_payload or {}).get("errors", {}).items():
                self.out(f"  the modal stays open: {block_id}: {error}")
        elif head == "view":
            self._describe(self._top_view().view)
            return True
        elif head == "read":
            channel = self._channel(rest[0]) if rest and rest[0].startswith("#") else self.channel
            count = int(rest[-1]) if rest and rest[-1].isdigit() else 10
            for message in self.emu.channels[channel].messages[-count:]:
                author = self.emu.users[message.user].name if message.user in self.emu.users else message.user
                self.out(f"  {author}: {_text(message.blocks, message.text)}")
            return True
        elif head == "channels":
            for c in self.emu.channels.values():
                if not c.is_im:
                    members = ", ".join(sorted(self.emu.users[m].name for m in c.members if m in self.emu.users))
                    self.out(f"  #{c.name} ({c.id}{', private' if c.is_private else ''}): {members}")
            return True
        elif head == "as" and rest:
            self.user = self._person(rest[0])
            if len(rest) > 1:
                self.channel = self._channel(rest[1])
            self.out(f"  you are {self.emu.users[self.user].name} in #{self.emu.channels[self.channel].name}")
            return True
        elif head == "calls":
            counts: dict[str, int] = {}
            for call in self.emu.calls:
                counts[call.method] = counts.get(call.method, 0) + 1
            self.out("  " + (", ".join(f"{m} {n}" for m, n in sorted(counts.items())) or "none yet"))
            return True
        else:
            self.out(f"  unknown command {head!r} (help lists them)")
            return True
        await asyncio.sleep(self.settle)
        self._show_changes(before)
        return True

    def _top_view(self):
        views = self.emu.open_views(self.user)
        if not views:
            raise DriverError("you have no open modal (run a slash command that opens one)")
        return views[-1]

    def _describe(self, view: dict) -> None:
        self.out(f"  modal: {view.get('title', {}).get('text', '')}")
        for block in view.get("blocks", []):
            if block.get("type") == "input":
                element = block.get("element", {})
                options = [o["value"] for o in element.get("options", [])]
                shown = f" one of: {', '.join(options)}" if options else ""
                optional = " (optional)" if block.get("optional") else ""
                self.out(f"    {block.get('block_id')}: {block['label']['text']}{optional}{shown}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulators.slackemu", description="A local Slack workspace (Web API and "
                                     "Socket Mode) to run a bot against by hand; type help for its commands.")
    parser.add_argument("--port", type=int, default=3333, help="loopback port to serve on (default 3333; 0: any)")
    parser.add_argument("--people", default="alice,bob,carol", help="comma-separated people in the workspace "
                        "(default alice,bob,carol; the first is who you act as)")
    parser.add_argument("--channel", default="general", help="channel everyone is in, the bot too (default general)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every Web API call (default 0)")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds to wait for the bot after each command before showing what changed (default 1)")
    return parser


async def serve(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    emu = SlackEmulator()
    try:
        await emu.start(args.port)
    except OSError as exc:
        out(f"slackemu cannot start: port {args.port} on 127.0.0.1: {exc.strerror or exc}\n"
            "  fix: pick another with --port (0 takes any free port)")
        return 2
    emu.faults.latency = args.latency_ms / 1000
    names = [n.strip() for n in args.people.split(",") if n.strip()] or ["alice"]
    people = [emu.add_user(n, real_name=n.title(), email=f"{n}@example.com") for n in names]
    channel = emu.add_channel(args.channel, members=people, bot_member=True)
    out(f"slackemu: a local Slack workspace on {emu.base_url}/\n"
        "Point the bot at it (environment or .env), then start it (python -m bot db upgrade && python -m bot):\n"
        f"  SLACK_API_URL={emu.api_url}\n  SLACK_BOT_TOKEN={emu.bot_token}\n  SLACK_APP_TOKEN={emu.app_token}\n"
        f"People: {', '.join(f'{n} ({u})' for n, u in zip(names, people, strict=True))}; "
        f"channel #{args.channel} ({channel}). You are {names[0]}; type help for commands, Ctrl-C to stop.")
    sys.stdout.flush()
    console = Console(emu, people, channel, out)
    console.settle = args.settle
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def read_commands() -> None:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:  # end of input: keep serving until stopped
                return
            try:
                if not await console.run_line(line):
                    stop.set()
                    return
            except (DriverError, ValueError) as exc:
                out(f"  {exc}")
            sys.stdout.flush()

    reader = asyncio.create_task(read_commands())
    try:
        await stop.wait()
    finally:
        reader.cancel()
        await emu.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return asyncio.run(serve(args))
