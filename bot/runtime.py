"""Composition root: build clients, ports, the Bolt app, jobs and the HTTP server; run and stop."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.http_server import build_http_app, start_http
from bot.settings import Settings
from bot.slack_client import build_web_client
from bot.slack_conversation import SlackConversation
from bot.static_oncall import StaticOncall
from domain.config.apply import apply_config
from domain.config.loader import load_config
from domain.config.rules import config_warnings
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import Ports
from domain.signals.queue import queue_depth
from domain.signals.worker import SignalWorker
from handlers import register_all
from handlers.registry import Registry
from jobs import schedule_jobs
from storage.db import create_engine, ping, session_factory

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 15.0


class Runtime:
    """One warroom process: Socket Mode app, scheduler and HTTP server sharing one event loop."""

    def __init__(
        self, settings: Settings, config: WarroomConfig | None = None, *, ports: dict[str, object] | None = None
    ) -> None:
        """`ports` replaces some of the wired ports by name (e.g. `{"oncall": fake}`), for tests."""
        self.settings = settings
        self._port_overrides = ports or {}
        self.config = config or load_config(settings.warroom_config)
        self.engine: AsyncEngine | None = None
        self.app: AsyncApp | None = None
        self.registry: Registry | None = None
        self.deps: Deps | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.http_runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self.signal_worker: SignalWorker | None = None
        self._stopped = asyncio.Event()

    async def connect(self) -> tuple[AsyncWebClient, dict]:
        """Database (config applied) and Slack Web API, wired into `self.deps`; no Socket Mode.

        Enough for operator commands such as `jobs run`. Returns the client and auth.test answer.
        """
        s = self.settings
        self.engine = create_engine(s.database_url)
        sessions = session_factory(self.engine)
        async with sessions() as session:
            report = await apply_config(session, self.config)
            await session.commit()
        log.info("config applied: %s", report)
        for warning in config_warnings(self.config):
            log.warning("config: %s", warning)
        client = build_web_client(s)
        auth = await client.auth_test()
        conversation = SlackConversation(client, auth.get("url") or "https://slack.com/", auth.get("user_id"))
        ports = Ports.with_conversation(conversation)
        ports.oncall = StaticOncall(self.config.oncall)
        ports = dataclasses.replace(ports, **self._port_overrides)
        self.deps = Deps(sessions=sessions, config=self.config, ports=ports)
        self._client = client
        return client, auth

    async def start(self) -> None:
        """Connect everything; raises if Slack or the database cannot be reached."""
        s = self.settings
        client, auth = await self.connect()
        # Reuse the auth.test answer above: Bolt would otherwise call it lazily, making the first
        # person to use warroom after a restart wait an extra round trip for their ack.
        authorized = AuthorizeResult.from_auth_test_response(
            bot_token=s.slack_bot_token.get_secret_value(), auth_test_response=auth
        )

        async def authorize(**_: object) -> AuthorizeResult:
            return authorized

        self.app = AsyncApp(client=build_web_client(s, with_token=False), name="warroom", authorize=authorize)
        self.registry = register_all(self.app, self.deps)
        self.scheduler = AsyncIOScheduler()
        schedule_jobs(self.scheduler, self.deps)
        self.scheduler.start()
        self.signal_worker = SignalWorker(self.deps.sessions, self.deps.ports, self.config)
        self.signal_worker.start()
        self.socket = AsyncSocketModeHandler(self.app, s.slack_app_token.get_secret_value())
        await asyncio.wait_for(self.socket.connect_async(), CONNECT_TIMEOUT)
        http_app = build_http_app(self.health, self.deps, self.wake_signals)
        self.http_runner, self.http_port = await start_http(http_app, s.http_host, s.http_port)
        log.info("warroom running as %s; HTTP on %s:%s", auth.get("user"), s.http_host, self.http_port)

    def wake_signals(self) -> None:
        """Newly stored signals: let the worker look now instead of at its next poll."""
        if self.signal_worker:
            self.signal_worker.wake()

    async def health(self) -> dict:
        """Database reachable and Socket Mode connected."""
        db_ok = await ping(self.engine) if self.engine else False
        socket_ok = bool(self.socket and await self.socket.client.is_connected())
        report = {"ok": db_ok and socket_ok, "database": "ok" if db_ok else "down",
                  "socket": "connected" if socket_ok else "disconnected"}
        if db_ok and self.deps:  # informative only: a backlog is not a reason to be restarted
            async with self.deps.sessions() as session:
                report["signals"] = await queue_depth(session)
        return report

    async def stop(self) -> None:
        """Stop taking work, then release connections. Safe to call twice."""
        if self.socket:
            await self.socket.close_async()
            self.socket = None
        if self.registry:
            await self.registry.drain()
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.signal_worker:
            await self.signal_worker.stop()
            self.signal_worker = None
        if self.http_runner:
            await self.http_runner.cleanup()
            self.http_runner = None
        for client in (getattr(self, "_client", None), self.app.client if self.app else None):
            if client is not None and client.session is not None:
                await client.session.close()
        if self.engine:
            await self.engine.dispose()
            self.engine = None
        self._stopped.set()

    async def run_forever(self) -> None:
        """Start, then run until SIGTERM/SIGINT, then stop cleanly."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
            log.info("shutting down")
        finally:
            await self.stop()
