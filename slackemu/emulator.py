"""SlackEmulator: one workspace with one installed app, served on 127.0.0.1 (Web API + Socket Mode)."""

from __future__ import annotations

import asyncio
import itertools
import time

from aiohttp import web

from slackemu.driver import DriverMixin
from slackemu.faults import Faults, Injection
from slackemu.server import ServerMixin
from slackemu.socket import SocketModeMixin
from slackemu.state import DOMAIN, ApiCall, Channel, User, View

__all__ = ["SlackEmulator", "DOMAIN"]


class SlackEmulator(ServerMixin, SocketModeMixin, DriverMixin):
    """One Slack workspace with one installed app (its bot user), served on 127.0.0.1.

    Set up people and channels with `add_user` / `add_channel`, point the real clients at `api_url`
    (bot token `bot_token`, app token `app_token`), act as people with the driver methods, and assert
    on `users`, `channels`, `views`, `ephemerals`, `calls` and `acks`.
    """

    def __init__(self, team_id: str = "T0001", trigger_ttl: float = 3.0, ack_timeout: float = 3.0) -> None:
        self.team_id = team_id
        self.trigger_ttl = trigger_ttl
        self.ack_timeout = ack_timeout
        self.bot_token = "xoxb-emulator-bot"
        self.app_token = "xapp-emulator-app"
        self.app_id = "A0001"
        self.bot_id = "B0001"
        self.bot_user_id = "UBOT0001"
        self.chat_write_public = True  # the app's manifest asks for chat:write.public
        self.subscribed_events: set[str] | None = None  # None: deliver every event type
        self.client_validation = True  # Slack's client checks modal inputs before submitting
        self.client_rejections: list[dict] = []  # submissions Slack's client refused (never sent to the app)
        self.users: dict[str, User] = {self.bot_user_id: User(self.bot_user_id, "warroom", "warroom", is_bot=True)}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, View] = {}
        self.ephemerals: list[dict] = []
        self.calls: list[ApiCall] = []
        self.faults = Faults()
        self.triggers: dict[str, dict] = {}
        self.response_urls: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._background: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._init_socket()

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Pass as `AsyncWebClient(base_url=...)`."""
        return f"{self.base_url}/api/"

    async def start(self) -> None:
        """Serve on a free loopback port."""
        self._runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
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

    def spawn(self, coro) -> asyncio.Task:
        """Run `coro` in the background; cancelled by stop()."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ------------------------------------------------------------------ ids and set-up
    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):07d}"

    def new_ts(self) -> str:
        """A message ts: unique and increasing, like Slack's."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def add_user(self, name: str, *, real_name: str | None = None, email: str | None = None, tz: str = "UTC",
                 is_bot: bool = False, display_name: str = "") -> str:
        """Add a person (or bot) to the workspace; returns the user id."""
        uid = self.new_id("U")
        self.users[uid] = User(uid, name, real_name or name, email, tz, is_bot, display_name=display_name)
        return uid

    def add_channel(self, name: str, *, members: list[str] | None = None, is_private: bool = False,
                    bot_member: bool = True) -> str:
        """Add a channel (no events); the bot is a member unless `bot_member=False`."""
        unknown = [m for m in members or [] if m not in self.users]
        if unknown:
            raise ValueError(f"unknown users {unknown}")
        cid = self.new_id("G" if is_private else "C")
        channel = Channel(cid, name, is_private=is_private, members=set(members or []))
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[cid] = channel
        return cid

    # ------------------------------------------------------------------ inspection
    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def dm_channel(self, user_id: str) -> Channel | None:
        """The IM between the bot and `user_id`, if one was opened."""
        return next((c for c in self.channels.values() if c.is_im and user_id in c.members), None)

    def open_views(self, user: str) -> list[View]:
        """The user's open modals, oldest (root) first."""
        return [v for v in self.views.values() if v.user == user and v.type == "modal" and v.state == "open"]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ faults
    def inject(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
               times: int = 1) -> None:
        """Make the next `times` calls of `method` ("*": any) fail with HTTP `status` or Slack `error`."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 200 and error is None:
            raise ValueError("inject() needs an HTTP error status or a Slack error code")
        self.faults.injections.append(Injection(method, status, error, retry_after, times))
