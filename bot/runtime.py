"""Composition root: build clients, ports, the Bolt app, jobs and the HTTP server; run and stop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped, warning_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__, adapters
from bot.http_guard import HttpLimits
from bot.http_server import build_http_app, start_http
from bot.memory import settle_after_start
from bot.metrics import Metrics, add_metrics_route
from bot.pagerduty import PagerDutyOncall
from bot.preflight import StartupError, check_database, port_in_use, shown_url, slack_refused, slack_unreachable
from bot.settings import Settings
from bot.slack_client import build_web_client
from bot.slack_conversation import SlackConversation
from bot.static_oncall import StaticOncall
from bot.workflow_webhooks import WebhookWorkflows
from domain.cases.cards import show_incident_cases
from domain.cases.with_incident import close_with_incident
from domain.config.ai import AIConfig
from domain.config.apply import apply_config
from domain.config.loader import load_config
from domain.config.rules import config_warnings
from domain.config.schema import WarroomConfig
from domain.config.tickets import TicketsConfig
from domain.core.deps import Deps
from domain.core.ports import Ports
from domain.cost_polling import record_model_assignment
from domain.incidents.service import OWN_SILENCE, SETUP_LEASE
from domain.response.intake import replay_reports
from domain.response.setup import resume_own_setups
from domain.signals.queue import queue_depth
from domain.signals.worker import SignalWorker
from handlers import register_all
from handlers.registry import Registry
from jobs import schedule_jobs
from storage.db import ack_engine, create_engine, ping, session_factory

if TYPE_CHECKING:
    from bot.openai_ai import OpenAIChat

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 15.0


class _TokenUnusedFilter(logging.Filter):
    """Drops Bolt's "`token` will be unused" warnings: `AsyncApp` reads SLACK_BOT_TOKEN from the environment
    by itself and warns that our client and `authorize` take precedence, which is what we want."""

    DROPPED = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.DROPPED


def quiet_bolt_token_warnings() -> None:
    bolt = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
    if not any(isinstance(f, _TokenUnusedFilter) for f in bolt.filters):
        bolt.addFilter(_TokenUnusedFilter())


def command_prefix(config: WarroomConfig) -> str:
    """What the configured slash commands share, e.g. `/dispatch-`."""
    names = list(config.commands.model_dump().values())
    prefix = names[0] if names else "/"
    for name in names:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[: prefix.rfind("-") + 1] or prefix


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
        self.ack_engine: AsyncEngine | None = None
        self._slack_http: aiohttp.ClientSession | None = None
        self.app: AsyncApp | None = None
        self.registry: Registry | None = None
        self.deps: Deps | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.http_runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self.signal_worker: SignalWorker | None = None
        self._ai: OpenAIChat | None = None
        self.resuming: asyncio.Task | None = None  # this replica's own unfinished set-ups, taken back at start
        self.metrics = Metrics()  # a registry per runtime: tests run several in one process
        self._pagerduty: PagerDutyOncall | None = None
        self._stopped = asyncio.Event()
        self._workflows: WebhookWorkflows | None = None

    async def connect(self) -> tuple[AsyncWebClient, dict]:
        """Database (config applied) and Slack Web API, wired into `self.deps`; no Socket Mode.

        Enough for operator commands such as `jobs run`. Returns the client and auth.test answer.
        Raises `StartupError` for a database that is missing, unreachable or not migrated, and for
        a bot token Slack refuses.
        """
        client, auth = await self._check_database_and_bot_token()
        await self._wire(client, auth)
        return client, auth

    async def _check_database_and_bot_token(self) -> tuple[AsyncWebClient, dict]:
        """Checks that write nothing: the database is there and migrated, Slack takes the bot token.

        Both at once (start-up waits for the slower, not for the sum); a database problem is the one
        reported when both fail, as when they ran one after the other."""
        s = self.settings
        self._slack_http = self._slack_http or aiohttp.ClientSession()  # kept-alive connections for every call
        client = build_web_client(s, observer=self.metrics.slack_observer(), session=self._slack_http)
        self._client = client
        auth = asyncio.ensure_future(self._auth_test(client))
        try:
            await check_database(s.database_url)
        except BaseException:
            auth.cancel()
            await asyncio.gather(auth, return_exceptions=True)
            raise
        return client, await auth

    async def _auth_test(self, client: AsyncWebClient) -> dict:
        s = self.settings
        try:
            return await client.auth_test()
        except SlackApiError as exc:
            raise slack_refused("SLACK_BOT_TOKEN", exc) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise slack_unreachable(s.slack_api_url, exc) from None

    async def _wire(self, client: AsyncWebClient, auth: dict) -> None:
        """Engine, config applied, ports, and `self.deps`."""
        self.engine = create_engine(self.settings.database_url)
        self.ack_engine = ack_engine(self.settings.database_url)
        sessions = session_factory(self.engine)
        async with sessions() as session:
            report = await apply_config(session, self.config)
            await session.commit()
        log.info("config applied: %s", report)
        for warning in config_warnings(self.config):
            log.warning("config: %s", warning)
        conversation = SlackConversation(client, auth.get("url") or "https://slack.com/", auth.get("user_id"),
                                         self.config.profile_fields)
        ports = Ports.with_conversation(conversation)
        ports.oncall = StaticOncall(self.config.oncall)
        if self.config.tickets is not None:
            ports.tickets = adapters.jira_tickets(self.config.tickets, self._jira_token(self.config.tickets))
        if self.config.workflows.definitions:
            self._workflows = WebhookWorkflows(self.config.workflows)
            for problem in self._workflows.missing():
                log.warning("config: %s; its runs will fail until it is", problem)
            ports.workflows = self._workflows
        if self.config.ai is not None and "ai" not in self._port_overrides:
            self._ai = ports.ai = adapters.openai_chat(self.config.ai, self._ai_key(self.config.ai))
        self._wire_paging_and_email(ports, conversation)
        if self.config.google is not None and not {"documents", "conference"} <= self._port_overrides.keys():
            workspace = adapters.google_workspace(self.config)
            await asyncio.to_thread(workspace.warm_up)  # offline: the discovery documents ship with the library
            ports.documents = ports.conference = workspace
        ports = dataclasses.replace(ports, **self._port_overrides)
        self.deps = Deps(sessions=sessions, config=self.config, ports=ports,
                         incident_watchers=[show_incident_cases, close_with_incident, record_model_assignment],
                         instance=self.settings.warroom_instance, ack_sessions=session_factory(self.ack_engine))

    def _wire_paging_and_email(self, ports: Ports, conversation: SlackConversation) -> None:
        """PagerDuty instead of the static schedule, and SMTP, when the config asks for them."""
        pd, mail, s = self.config.pagerduty, self.config.email, self.settings
        if pd is not None and "oncall" not in self._port_overrides:
            try:
                ports.oncall = self._pagerduty = PagerDutyOncall.from_env(pd, conversation.user_id_by_email)
            except ValueError as exc:
                raise StartupError(f"pagerduty: the environment variables {exc} are not set",
                                   "set them, or remove the pagerduty: section to use the static schedule") from None
        if mail is not None and "email" not in self._port_overrides:
            if not s.smtp_host:
                raise StartupError("email: SMTP_HOST is not set (the mail server stakeholder email goes through)",
                                   "set SMTP_HOST (and SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASSWORD), or remove email:")
            ports.email = adapters.smtp_email(host=s.smtp_host, port=s.smtp_port, tls=s.smtp_tls, user=s.smtp_user,
                                    password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                                    from_address=mail.from_address, timeout=mail.timeout)

    def _jira_token(self, tickets: TicketsConfig) -> str:
        token = os.environ.get(tickets.api_token_env, "").strip()
        if not token and "tickets" not in self._port_overrides:
            raise StartupError(f"tickets: the environment variable {tickets.api_token_env} (the Jira API token) is not set",
                               f"set {tickets.api_token_env}, or remove the tickets: section to run without Jira")
        return token

    def _ai_key(self, ai: AIConfig) -> str:
        key = os.environ.get(ai.api_key_env, "").strip()
        if not key:
            raise StartupError(f"ai: the environment variable {ai.api_key_env} (the AI server's API key) is not set",
                               f"set {ai.api_key_env} (any non-empty value for a server without keys), or remove "
                               "the ai: section to run without AI")
        return key

    async def start(self) -> None:
        """Connect everything. Raises `StartupError`, after releasing whatever it had opened, when the
        database, a Slack token or the HTTP port is not usable."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        log.info("warroom %s starting: database %s, config %s, commands %s*", __version__, shown_url(s.database_url),
                 s.warroom_config or "built-in defaults", command_prefix(self.config))
        client, auth = await self.connect()
        # The HTTP port before Socket Mode, jobs and the worker: a port in use stops start-up at once.
        limits = HttpLimits.from_settings(s)
        http_app = build_http_app(self.health, self.deps, self.wake_signals, limits)
        add_metrics_route(http_app, self.metrics, lambda: self.deps.sessions if self.deps else None)
        try:
            self.http_runner, self.http_port = await start_http(http_app, s.http_host, s.http_port, limits)
        except OSError as exc:
            raise port_in_use(s.http_host, s.http_port, exc) from None
        # Ask for the Socket Mode URL ourselves: a refused app token then fails once, clearly, where
        # the Socket Mode client would log a traceback and retry for as long as it is let.
        app_token = s.slack_app_token.get_secret_value()
        try:
            wss_url = (await client.apps_connections_open(app_token=app_token))["url"]
        except SlackApiError as exc:
            raise slack_refused("SLACK_APP_TOKEN", exc) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise slack_unreachable(s.slack_api_url, exc) from None
        # Reuse the auth.test answer above: Bolt would otherwise call it lazily, making the first
        # person to use warroom after a restart wait an extra round trip for their ack.
        authorized = AuthorizeResult.from_auth_test_response(
            bot_token=s.slack_bot_token.get_secret_value(), auth_test_response=auth
        )

        async def authorize(**_: object) -> AuthorizeResult:
            return authorized

        quiet_bolt_token_warnings()
        self.app = AsyncApp(client=build_web_client(s, with_token=False, observer=self.metrics.slack_observer(),
                                                    session=self._slack_http),
                            name="warroom", authorize=authorize,
                            process_before_response=True)  # listeners return at their ack (Registry._tracked)
        self.registry = register_all(self.app, self.deps)
        self.app.middleware(self.metrics.ack_middleware(self.registry))
        self.scheduler = AsyncIOScheduler()
        try:
            schedule_jobs(self.scheduler, self.deps, s.job_intervals)
        except ValueError as exc:
            raise StartupError(f"JOB_INTERVALS: {exc}", "name jobs as `python -m bot jobs list` shows them") from None
        self.scheduler.add_listener(self.metrics.job_listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.scheduler.start()
        self.signal_worker = SignalWorker(self.deps)
        self.signal_worker.start()
        self.socket = AsyncSocketModeHandler(self.app, app_token)
        self.socket.client.wss_uri = wss_url  # its reconnections ask for fresh URLs themselves
        try:
            await asyncio.wait_for(self.socket.connect_async(), CONNECT_TIMEOUT)
        except TimeoutError:
            raise StartupError(f"the Socket Mode connection did not open within {CONNECT_TIMEOUT:.0f} s",
                               "check that Socket Mode is enabled for the app and that this machine may open "
                               "WebSockets to Slack") from None
        log.info("warroom running as %s; HTTP on %s:%s", auth.get("user"), s.http_host, self.http_port)
        self.resuming = asyncio.create_task(self._resume_own_setups())

    async def _resume_own_setups(self) -> None:
        """Finish the set-ups an earlier boot of this replica left (killed, crashed) as soon as their heartbeat
        has gone silent: seconds after a restart, not the lease and the resume job's interval."""
        assert self.deps is not None
        deadline = asyncio.get_running_loop().time() + SETUP_LEASE.total_seconds() + OWN_SILENCE.total_seconds()
        try:
            await replay_reports(self.deps, own_only=True)  # reports stored but not yet turned into incidents
        except Exception:  # the resume job replays whatever this missed
            log.exception("replaying this replica's stored reports failed")
        while True:
            try:
                resumed, waiting = await resume_own_setups(self.deps)
                if resumed:
                    log.info("resumed %s set-up(s) this replica was running before it restarted", resumed)
                if not waiting:
                    return
            except Exception:  # the resume job retries whatever this missed
                log.exception("resuming this replica's set-ups failed")
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(1.0)

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
        if self.resuming:
            self.resuming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.resuming
            self.resuming = None
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
        self._slack_http = None
        if self._workflows is not None:
            await self._workflows.close()
        if self._ai is not None:
            await self._ai.close()
            self._ai = None
        if self._pagerduty is not None:
            await self._pagerduty.close()
        if self.engine:
            await self.engine.dispose()
            self.engine = None
        if self.ack_engine:
            await self.ack_engine.dispose()
            self.ack_engine = None
        self._stopped.set()

    async def run_forever(self) -> None:
        """Start, then run until SIGTERM/SIGINT, then stop cleanly."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        settle_after_start()
        try:
            await stop.wait()
            log.info("shutting down")
        finally:
            await self.stop()
