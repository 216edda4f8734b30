"""The demo's PagerDuty act (`python -m bot demo --pagerduty`): a local PagerDuty emulator with a db service
whose primary is on call, the incident's commander paged, then the db on-call engaged and paged."""

from __future__ import annotations

import os
from collections.abc import Callable

from domain.config.paging import PagerDutyConfig, PagerDutyService
from emulators.pagerdutyemu import PagerDutyEmulator
from emulators.slackemu import SlackEmulator

TOKEN_ENV, ROUTING_ENV = "WARROOM_DEMO_PAGERDUTY_TOKEN", "WARROOM_DEMO_PAGERDUTY_DB_KEY"
ROUTING_KEY = "d" * 32


async def start_pagerduty(emu: SlackEmulator) -> tuple[PagerDutyEmulator, PagerDutyConfig]:
    """The emulator with an account (Carol on call for db, Alice on the api service) and the config for it."""
    pd = PagerDutyEmulator(token="demo-pagerduty-token")
    await pd.start()
    emu.add_user("carol", real_name="Carol DBA", email="carol@example.com")
    carol = pd.add_user("Carol DBA", "carol@example.com")
    alice = pd.add_user("Alice Ops", "alice@example.com")
    pd.add_user("warroom", "warroom-bot@example.com")
    primary = pd.add_schedule("DB primary", [carol])
    db = pd.add_service("db", pd.add_policy("DB", [[("schedule", primary)]]), routing_key=ROUTING_KEY)
    api = pd.add_service("api", pd.add_policy("API", [[("user", alice)]]))
    os.environ[TOKEN_ENV], os.environ[ROUTING_ENV] = pd.token, ROUTING_KEY
    config = PagerDutyConfig(api_token_env=TOKEN_ENV, from_email="warroom-bot@example.com", api_url=pd.api_url,
                             events_url=pd.events_url, commander_service="api",
                             services=[PagerDutyService(name="db", id=db, routing_key_env=ROUTING_ENV),
                                       PagerDutyService(name="api", id=api)])
    return pd, config


async def paging_act(emu: SlackEmulator, pd: PagerDutyEmulator, runtime, alice: str, channel: str,
                     readable: Callable[[str], str], out) -> None:
    command = runtime.config.commands.engage_oncall
    await emu.wait_for(lambda: pd.incidents, timeout=5)
    for incident in pd.incidents.values():
        out(f"[PagerDuty] the High priority paged the commander: #{incident.number} “{incident.title}” "
            f"assigned to {', '.join(pd.users[u].name for u in incident.assignees)}")
    out(f"[alice in the incident channel] {command}")
    before = set(emu.views)
    await emu.slash_command(alice, command, channel=channel)
    view = (await emu.wait_for(lambda: [v for v in emu.open_views(alice) if v.id not in before], timeout=5))[-1]
    for line in view.view["blocks"][0]["text"]["text"].splitlines():
        out(f"  {readable(line)}")
    out("[alice] picks db and ticks “Page them”")
    await emu.submit_view(alice, view.id, {"service": "db", "page": ["page"]})
    await emu.wait_for(lambda: len(pd.incidents) == 2, timeout=5)
    paged = list(pd.incidents.values())[-1]
    out(f"[PagerDuty] Events API v2 trigger, dedup key {paged.incident_key}: incident #{paged.number} "
        f"for {pd.users[paged.assignees[0]].name}")
    posted = await emu.wait_for(lambda: [m for m in emu.channels[channel].messages if "engaged the db" in m.text],
                                timeout=5)
    out(f"  in the channel: {readable(posted[-1].text)}")
