"""A burst of incident reports as people make them: everyone runs the slash command at once, then everyone
submits their modal at once. Runs wherever the emulator runs (the bench's process or the emulator's own)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from emulators.slackemu import SlackEmulator

COMMAND = "/dispatch-report-incident"


async def report_burst(emu: SlackEmulator, users: list[str], channel: str, latency: float) -> dict[str, Any]:
    """Ack latencies (ms) of the commands and submissions, and when each submission was sent
    (`time.perf_counter()`, comparable across processes of this machine) by view id."""
    emu.faults.latency = latency
    commands = await asyncio.gather(*(emu.slash_command(u, COMMAND, channel=channel) for u in users))
    await emu.wait_for(lambda: all(emu.open_views(u) for u in users), timeout=30)
    views = {u: emu.open_views(u)[-1] for u in users}
    started: dict[str, float] = {}

    async def submit(user: str, i: int):
        view = views[user]
        started[view.id] = time.perf_counter()
        return await emu.submit_view(
            user, view.id, {"title": f"Bench incident {i} at {latency * 1000:.0f} ms", "description": "load test"})

    submits = await asyncio.gather(*(submit(u, i) for i, u in enumerate(users)))
    return {"command_ack": [d.latency for d in commands], "submit_ack": [d.latency for d in submits],
            "kept_open": sum(1 for d in submits if (d.ack_payload or {}).get("errors")), "started": started}
