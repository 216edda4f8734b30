"""`python -m bot demo`: a scripted incident and an alert turned into a case, played through the Slack emulator, narrated.

The incident also gets a Google Drive document and a Meet bridge from the local Google emulator."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.demo_ai import ai_act, demo_ai_config
from bot.demo_paging import paging_act, start_pagerduty
from bot.harness import running_warroom
from domain.config.google import ConferenceConfig, GoogleConfig, GoogleDocumentsConfig
from domain.config.schema import WarroomConfig
from domain.core.vocabulary import CaseStatus, SetupState
from emulators.googleemu import GoogleEmulator
from emulators.openaiemu import OpenAIEmulator
from emulators.slackemu import SlackEmulator
from storage.case_models import Case
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


async def run_demo(out=print, *, pagerduty: bool = False) -> int:
    """Play report → modal → channel ready, then alerts → case card → triage; print what each person saw.
    With `pagerduty`, a local PagerDuty emulator pages the commander and the db on-call too."""
    logging.basicConfig(level=logging.WARNING)
    # Pages are part of the transcript below (no pager is configured, so the static port logs them).
    logging.getLogger("bot.static_oncall").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        await upgrade_async(db_url)
        emu, ai, google = SlackEmulator(), OpenAIEmulator(), GoogleEmulator()
        await emu.start()
        await ai.start()
        await google.start()
        pd = None
        try:
            alice = emu.add_user("alice", real_name="Alice Ops", email="alice@example.com", tz="Europe/Paris")
            emu.add_user("bob", real_name="Bob Sec", email="bob@example.com", tz="America/New_York")
            general = emu.add_channel("general", members=[alice], bot_member=True)
            triage = emu.add_channel("sec-triage", members=[alice], bot_member=True)
            config = demo_config(triage).model_copy(update={"ai": demo_ai_config(ai), **demo_google(google, Path(tmp))})
            if pagerduty:
                pd, config.pagerduty = await start_pagerduty(emu)
            async with running_warroom(emu, db_url, config) as runtime:
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
                await emu.wait_for(lambda: {"Incident document", "Video call"} <= {b["title"] for b in channel.bookmarks},
                                   timeout=15)  # made right after the channel is ready, in parallel
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
                for who, name, _title in getattr(runtime.deps.ports.oncall, "pages", []):
                    person = emu.users[who].name if who in emu.users else who
                    out(f"  page: {person} paged for {name} (High priority pages the commander; with no pager "
                        "configured the page is only logged)")
                out(f"\n{len(emu.calls)} Slack API calls; incident {incident.name} is ready.\n")
                await ai_act(emu, runtime, ai, alice, incident.channel_id, out)
                if pd is not None:
                    await paging_act(emu, pd, runtime, alice, incident.channel_id, lambda t: _readable(t, emu), out)
                await _signals_act(emu, runtime, alice, triage, out)
        finally:
            await ai.stop()
            await google.stop()
            if pd is not None:
                await pd.stop()
            await emu.stop()
    return 0


DEMO_TOKEN = "demo-token"
DEMO_GOOGLE_KEY = "WARROOM_DEMO_GOOGLE_KEY"


def demo_config(triage: str) -> WarroomConfig:
    """The built-in defaults plus one alert source and definition whose cases go to `triage`."""
    return WarroomConfig.model_validate({"signals": {
        "card_refresh_seconds": 0.5,
        "sources": [{"name": "guardduty", "token": DEMO_TOKEN}],
        "entity_types": [{"name": "ip", "regex": r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "scope": "global"},
                         {"name": "user", "jsonpath": "$.detail.userName", "scope": "global"}],
        "definitions": [{"name": "Console login from a new country", "external_id": "guardduty-unusual-login",
                         "case_priority": "High", "conversation_target": triage,
                         "runbook": "https://wiki.example.com/runbooks/unusual-login"}],
    }})


def demo_google(google: GoogleEmulator, tmp: Path) -> dict:
    """`google:` and `conference:` pointed at the local Google emulator: an incident document and a Meet bridge."""
    root = google.add_folder("Incidents")
    template = google.add_document("Incident template", "{{name}}: {{title}}\nCommander: {{commander_fullname}}\n")
    key = tmp / "google-key.json"
    key.write_text(json.dumps(google.service_account_info()))
    os.environ[DEMO_GOOGLE_KEY] = str(key)
    return {"google": GoogleConfig(credentials_env=DEMO_GOOGLE_KEY, api_base=google.url,
                                   documents=GoogleDocumentsConfig(parent_folder_id=root.id,
                                                                   incident_template_id=template.id)),
            "conference": ConferenceConfig()}


async def _signals_act(emu: SlackEmulator, runtime, alice: str, triage: str, out) -> None:
    """Alerts posted over HTTP become one case card whose count follows; a reply triages it."""
    url = f"http://127.0.0.1:{runtime.http_port}/signals"
    out(f"[GuardDuty] POST {url} (Bearer token), 3 alerts for the same user")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as http:
        for ip in ("203.0.113.7", "203.0.113.8", "203.0.113.9"):
            raw = {"id": str(uuid.uuid4()), "externalId": "guardduty-unusual-login",
                   "detail": {"userName": "mallory", "sourceIPAddress": ip}}
            async with http.post(url, json={"raw": raw}) as resp:
                out(f"  {resp.status} {await resp.json()}")

    def card():
        cards = [m for m in emu.channels[triage].messages if m.thread_ts is None and m.blocks]
        shown = cards and any(f.get("text") == "*Alerts*\n3" for b in cards[-1].blocks for f in b.get("fields", []))
        return cards[-1] if shown else None

    message = await emu.wait_for(card, timeout=10)
    out("  warroom posted one case card in #sec-triage (duplicates only bump its count):")
    for line in _flatten(message.blocks, message.text):
        for part in line.splitlines():
            out(f"    {_readable(part, emu)}")
    buttons = [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    out(f"    [{'] ['.join(buttons)}]")
    out("[alice replies in the card's thread] Looking at it — mallory is on holiday in Lisbon?")
    await emu.post_message(alice, triage, "Looking at it — mallory is on holiday in Lisbon?", thread_ts=message.ts)

    async def triaged():
        async with runtime.deps.sessions() as session:
            return (await session.execute(select(Case.status))).scalar() == CaseStatus.TRIAGE

    await emu.wait_for(triaged, timeout=5)
    out("  the case moved New → Triage; the card now offers Edit, Resolve, Escalate, Create channel, Join, Snooze.")


async def _wait_view(emu: SlackEmulator, user: str):
    await emu.wait_for(lambda: emu.open_views(user), timeout=5)
    return emu.open_views(user)[-1]


async def _wait_ready(runtime) -> Incident:
    for _ in range(200):
        async with runtime.deps.sessions() as session:
            incident = (await session.execute(select(Incident))).scalars().first()
        if incident is not None and incident.setup_state == SetupState.READY:
            return incident
        await asyncio.sleep(0.05)
    raise RuntimeError("the incident channel never became ready")
