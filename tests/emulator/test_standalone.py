"""`python -m emulators.slackemu`: the workspace in its own process, a real `python -m bot` pointed at it with the
printed settings, and a person typing at the emulator's console."""

from __future__ import annotations

import asyncio
import os
import signal
import sys


async def _read_until(stream: asyncio.StreamReader, needle: str, seen: list[str], timeout: float = 60) -> str:
    async def find() -> str:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"output ended before {needle!r}:\n{''.join(seen)}")
            seen.append(line)
            if needle in line:
                return line

    return await asyncio.wait_for(find(), timeout)


async def test_a_bot_started_from_the_shell_against_the_standalone_emulator(db_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_CONFIG"))}
    emu = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulators.slackemu", "--port", "0", "--settle", "1.5", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path)
    assert emu.stdout is not None and emu.stdin is not None
    bot = None
    seen: list[str] = []
    try:
        await _read_until(emu.stdout, "You are alice", seen)
        settings = dict(line.strip().split("=", 1) for line in seen if line.strip().startswith("SLACK_"))
        assert set(settings) == {"SLACK_API_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}
        assert settings["SLACK_API_URL"].startswith("http://127.0.0.1:") and settings["SLACK_BOT_TOKEN"].startswith("xoxb-")

        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env={**env, **settings, "DATABASE_URL": db_url, "HTTP_HOST": "127.0.0.1",
                                              "HTTP_PORT": "0", "LOG_LEVEL": "INFO"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
        assert bot.stdout is not None
        bot_log: list[str] = []
        await _read_until(bot.stdout, "warroom running as warroom", bot_log)

        async def type_(line: str, needle: str) -> str:
            emu.stdin.write(line.encode() + b"\n")
            await emu.stdin.drain()
            return await _read_until(emu.stdout, needle, seen)

        await type_("/dispatch-report-incident Checkout down", "modal opened: Report incident")
        await type_("view", "incident_priority: Priority")
        await type_('submit title="Checkout is down" description="502 for EU" incident_priority=High', "(only you)")
        assert any("[#inc-1-checkout-is-down] warroom: INC-1: Checkout is down" in line for line in seen), "".join(seen)
        await type_("channels", "#inc-1-checkout-is-down")
        await type_("bogus", "unknown command 'bogus'")
        emu.stdin.write(b"quit\n")
        await emu.stdin.drain()
        assert await asyncio.wait_for(emu.wait(), 10) == 0
    finally:
        for proc in (bot, emu):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()


async def test_a_port_in_use_is_one_clear_message(tmp_path):
    holder = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = holder.sockets[0].getsockname()[1]
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulators.slackemu", "--port", str(port), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        holder.close()
        await holder.wait_closed()
    assert proc.returncode == 2
    lines = out.decode().strip().splitlines()
    assert lines[0].startswith(f"slackemu cannot start: port {port} on 127.0.0.1") and "--port" in lines[1]
    assert len(lines) == 2
