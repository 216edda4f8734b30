"""`python -m bot demo`: a scripted incident, played through the Slack emulator, narrated."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from pathlib import Path

from sqlalchemy import select

from bot.harness import running_warroom
from slackemu import SlackEmulator
from storage.migrate import upgrade_async
from storage.models import Event, Incident


def _flatten(blocks: list[dict] | None, fallback: str = "") -> list[str]:
    """Readable lines from Block Kit (headers, sections, fields, context)."""
    lines: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            fields = [f["text"].replace("\n", ": ", 1) for f in block.get("fields", [])]
            if fields:
                lines.append(" | ".join(fields))
        elif kind == "context":
            lines.append(" ".join(e.get("text", "") for e in block.get("elements", [])))
    return lines or [fallback]


def _readable(text: str, emu: SlackEmulator) -> str:
    """Render Slack markup the way the client shows it: <@U1> → @name, <#C1> → #name, links → text."""
    text = re.sub(r"<@(\w+)>", lambda m: "@" + (emu.users[m[1]].real_name if m[1] in emu.users else m[1]), text)
    text = re.sub(r"<#(\w+)(\|[^>]*)?>", lambda m: "#" + (emu.channels[m[1]].name if m[1] in emu.channels else m[1]),
                  text)
    return re.sub(r"<([^|>]+)\|([^>]+)>", r"\2", text)


async def run_demo(out=print) -> int:
    """Play report → modal → channel ready; print what each person saw. Returns an exit code."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        await upgrade_async(db_url)
        emu = SlackEmulator()
        await emu.start()
        try:
            alice = emu.add_user("alice", real_name="Alice Ops", email="alice@example.com", tz="Europe/Paris")
            emu.add_user("bob", real_name="Bob Sec", email="bob@example.com", tz="America/New_York")
            general = emu.add_channel("general", members=[alice], bot_member=True)
            async with running_warroom(emu, db_url) as runtime:
                command = runtime.config.commands.report_incident
                out("warroom demo: a Slack workspace emulator, the real bot, a throw-away SQLite database\n")
                out(f"[alice in #general] {command}")
                await emu.slash_command(alice, command, channel=general)
                view = await _wait_view(emu, alice)
                labels = [b["label"]["text"] for b in view.view["blocks"] if b["type"] == "input"]
                out(f"  alice sees the modal “{view.view['title']['text']}” asking for: {', '.join(labels)}")

                out("[alice] submits it with an empty title")
                result = await emu.submit_view(alice, view.id, {"title": "", "description": "Checkout errors"})
                for block_id, error in (result.ack_payload or {}).get("errors", {}).items():
                    out(f"  the modal stays open and shows under {block_id}: {error}")

                title = "Checkout API returns 502 for EU customers"
                out(f"[alice] submits “{title}”, priority High")
                await emu.submit_view(
                    alice,
                    view.id,
                    {"title": title, "description": "Since 02:40 UTC about 30% of EU checkouts fail with 502.",
                     "incident_priority": "High"},
                )
                incident = await _wait_ready(runtime)
                channel = emu.channels[incident.channel_id]
                out(f"  warroom opened #{channel.name}")
                out(f"  members: {', '.join(sorted(emu.users[m].name for m in channel.members))}")
                out(f"  topic: {channel.topic}")
                for bm in channel.bookmarks:
                    out(f"  bookmark: {bm['title']} → {bm['link']}")
                summary = channel.messages[0]
                out("  pinned summary:" if summary.ts in channel.pins else "  summary:")
                for line in _flatten(summary.blocks, summary.text):
                    out(f"    {_readable(line, emu)}")
                for eph in emu.ephemerals:
                    if eph["user"] == alice:
                        shown = _readable(" ".join(_flatten(eph["blocks"], eph["text"])), emu)
                        out(f"[alice sees, only to her, in #general] {shown}")
                async with runtime.deps.sessions() as session:
                    events = (
                        await session.execute(select(Event).where(Event.incident_id == incident.id).order_by(Event.id))
                    ).scalars().all()
                out("  timeline:")
                for ev in events:
                    out(f"    {ev.started_at:%H:%M:%S} {ev.description}")
                out(f"\n{len(emu.calls)} Slack API calls; incident {incident.name} is ready.")
        finally:
            await emu.stop()
    return 0


async def _wait_view(emu: SlackEmulator, user: str):
    await emu.wait_for(lambda: emu.open_views(user), timeout=5)
    return emu.open_views(user)[-1]


async def _wait_ready(runtime) -> Incident:
    for _ in range(200):
        async with runtime.deps.sessions() as session:
            incident = (await session.execute(select(Incident))).scalars().first()
        if incident is not None and incident.setup_state == "ready":
            return incident
        await asyncio.sleep(0.05)
    raise RuntimeError("the incident channel never became ready")
