"""SlackEmulator: one workspace with one installed app, served on 127.0.0.1 (Web API + Socket Mode)."""

from __future__ import annotations

from aiohttp import web

from emulators.slackemu.driver import DriverMixin
from emulators.slackemu.server import ServerMixin
from emulators.slackemu.state import DOMAIN

__all__ = ["DOMAIN", "SlackEmulator"]


class SlackEmulator(ServerMixin, DriverMixin):
    """One Slack workspace with one installed app (its bot user), served on 127.0.0.1.

    Set up people and channels with `add_user` / `add_channel`, point the real clients at `api_url`
    (bot token `bot_token`, app token `app_token`), act as people with the driver methods, and assert
    on `users`, `channels`, `views`, `ephemerals`, `calls` and `acks`.
    """

    def __init__(self, team_id: str = "T0001", trigger_ttl: float = 3.0, ack_timeout: float = 3.0) -> None:
        super().__init__(team_id, trigger_ttl, ack_timeout)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self, port: int = 0) -> None:
        """Serve on loopback, on `port` (0: a free one)."""
        self._runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.faults.release_hangs()
        for task in list(self._background):
            task.cancel()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
