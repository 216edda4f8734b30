"""Run warroom against a Slack workspace emulator: shared by the demo, tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.runtime import Runtime
from bot.settings import Settings
from domain.config.schema import WarroomConfig
from emulators.slackemu import SlackEmulator


def emulator_settings(emu: SlackEmulator, database_url: str, **overrides: object) -> Settings:
    """Settings pointing at the emulator; ignores any `.env` so tests are hermetic."""
    values: dict = dict(
        slack_bot_token=emu.bot_token,
        slack_app_token=emu.app_token,
        slack_api_url=emu.api_url,
        database_url=database_url,
        http_host="127.0.0.1",
        http_port=0,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_warroom(
    emu: SlackEmulator,
    database_url: str,
    config: WarroomConfig | None = None,
    *,
    ports: dict[str, object] | None = None,
    **overrides: object,
) -> AsyncIterator[Runtime]:
    """A started warroom process connected to `emu`, stopped on exit. The database must be migrated.

    `ports` swaps wired ports by name (e.g. a recording on-call port); `overrides` are settings.
    """
    runtime = Runtime(emulator_settings(emu, database_url, **overrides), config, ports=ports)
    await runtime.start()
    emu.subscribed_events = set(runtime.registry.events)  # what the manifest subscribes to
    try:
        await emu.wait_connected(timeout=5)
        yield runtime
    finally:
        await runtime.stop()
