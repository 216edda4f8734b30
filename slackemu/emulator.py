"""The emulator process: aiohttp server for the Web API, Socket Mode and response URLs."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from slackemu.driver import DriverMixin
from slackemu.faults import Faults, Injection
from slackemu.state import Ack, ApiCall, Channel, User, View
from slackemu.webapi import METHODS, ApiError

log = logging.getLogger(__name__)
JSON_PARAMS = ("blocks", "view", "attachments", "users")
DOMAIN = "https://emulator.slack.test/"


class SlackEmulator(DriverMixin):
    """One Slack workspace with one installed app (its bot user), served on 127.0.0.1."""

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
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, View] = {}
        self.ephemerals: list[dict] = []
        self.calls: list[ApiCall] = []
        self.acks: list[Ack] = []
        self.faults = Faults()
        self.triggers: dict[str, dict] = {}
        self.response_urls: dict[str, dict] = {}
        self.envelopes: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._rr = itertools.count()
        self._pending: dict[str, tuple[asyncio.Future, float]] = {}
        self._background: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._connected = asyncio.Event()
        self.port: int | None = None
        self.users[self.bot_user_id] = User(self.bot_user_id, "warroom", "warroom", is_bot=True)

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/respond/{rid}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
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

    # ------------------------------------------------------------------ ids and setup
    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):07d}"

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def add_user(self, name: str, *, real_name: str | None = None, email: str | None = None, tz: str = "UTC",
                 is_bot: bool = False) -> str:
        """Add a person (or bot) to the workspace; returns the user id."""
        uid = self.new_id("U")
        self.users[uid] = User(uid, name, real_name or name, email, tz, is_bot)
        return uid

    def add_channel(self, name: str, *, members: list[str] | None = None, is_private: bool = False,
                    bot_member: bool = True) -> str:
        """Add a channel; the bot is a member unless `bot_member=False`."""
        cid = self.new_id("G" if is_private else "C")
        channel = Channel(cid, name, is_private=is_private, members=set(members or []), creator=None)
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[cid] = channel
        return cid

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def dm_channel(self, user_id: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.is_im and user_id in c.members), None)

    def open_views(self, user: str) -> list[View]:
        return [v for v in self.views.values() if v.user == user and v.type == "modal" and v.state == "open"]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def inject(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
               times: int = 1) -> None:
        """Make the next `times` calls of `method` fail with HTTP `status` or Slack `error`."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self.faults.injections.append(Injection(method, status, error, retry_after, times))

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ------------------------------------------------------------------ Web API
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            body = await request.read()
            ctype = request.content_type
            if ctype == "application/json" and body:
                params.update(json.loads(body))
            elif body:
                params.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        for key in JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
        params.pop("team_id", None)  # Bolt adds it to every call
        return params

    def _token(self, request: web.Request, params: dict) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        return params.pop("token", None)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        started = time.perf_counter()
        params = await self._params(request)
        token = self._token(request, params)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)

        def record(ok: bool, error: str | None, status: int = 200) -> None:
            self.calls.append(ApiCall(method, params, ok, error, time.time(), time.perf_counter() - started, status))

        injection = self.faults.take(method)
        if injection is not None:
            if injection.status == 429:
                record(False, "ratelimited", 429)
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(int(injection.retry_after or 1))})
            if injection.status >= 500:
                record(False, "internal_error", injection.status)
                return web.Response(status=injection.status, text="upstream error")
            record(False, injection.error)
            return web.json_response({"ok": False, "error": injection.error})

        handler = METHODS.get(method)
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        try:
            if handler is None:
                raise ApiError("unknown_method")
            if token is None:
                raise ApiError("not_authed")
            if token != expected:
                raise ApiError("invalid_auth")
            result = handler(self, params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            record(False, exc.code)
            body = {"ok": False, "error": exc.code}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            return web.json_response(body)
        record(True, None)
        return web.json_response({"ok": True, **(result or {})})

    # ------------------------------------------------------------------ Socket Mode
    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._connected.set()
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            "connection_info": {"app_id": self.app_id},
        })
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_ack(json.loads(msg.data))
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
            if not self._sockets:
                self._connected.clear()
        return ws

    def _on_ack(self, data: dict) -> None:
        envelope_id = data.get("envelope_id")
        pending = self._pending.pop(envelope_id, None) if envelope_id else None
        if pending is None:
            return
        future, sent_at = pending
        latency = time.perf_counter() - sent_at
        self.acks.append(Ack(envelope_id, data.get("payload"), latency))
        if not future.done():
            future.set_result((data.get("payload"), latency))

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send_envelope(self, kind: str, payload: dict, *, accepts_response_payload: bool = False,
                            envelope_id: str | None = None, retry_attempt: int = 0,
                            retry_reason: str | None = None) -> tuple[str, dict | None, float]:
        """Send an envelope to a connected app and wait for its ack."""
        if not self._sockets:
            await self.wait_connected(self.ack_timeout)
        envelope_id = envelope_id or self.new_id("env-")
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or "timeout"
        self.envelopes[envelope_id] = envelope
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = (future, time.perf_counter())
        ws = self._sockets[next(self._rr) % len(self._sockets)]
        await ws.send_json(envelope)
        try:
            ack_payload, latency = await asyncio.wait_for(future, self.ack_timeout)
        except asyncio.TimeoutError:
            self._pending.pop(envelope_id, None)
            raise TimeoutError(f"no ack for {kind} envelope {envelope_id} within {self.ack_timeout}s") from None
        return envelope_id, ack_payload, latency

    async def disconnect_sockets(self, reason: str = "refresh_requested") -> None:
        """Ask every connected client to reconnect, as Slack does periodically."""
        for ws in list(self._sockets):
            await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}})
            await ws.close()

    async def drop_sockets(self) -> None:
        """Close every socket without warning (a network failure)."""
        for ws in list(self._sockets):
            await ws.close(code=1006)
        self._sockets.clear()
        self._connected.clear()

    # ------------------------------------------------------------------ response_url
    def new_response_url(self, user: str, channel: str | None) -> str:
        rid = self.new_id("R")
        self.response_urls[rid] = {"user": user, "channel": channel}
        return f"{self.base_url}/respond/{rid}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        target = self.response_urls.get(request.match_info["rid"])
        if target is None:
            return web.Response(status=404, text="invalid response_url")
        body = await request.json()
        text, blocks = body.get("text"), body.get("blocks")
        if body.get("response_type") == "in_channel" and target["channel"]:
            from slackemu.state import Message

            self.channels[target["channel"]].messages.append(
                Message(self.new_ts(), self.bot_user_id, text or "", blocks, bot_id=self.bot_id)
            )
        else:
            self.ephemerals.append({"channel": target["channel"], "user": target["user"], "text": text or "",
                                    "blocks": blocks, "ts": self.new_ts()})
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------ events
    def event_payload(self, event: dict) -> dict:
        now = time.time()
        event.setdefault("event_ts", f"{now:.6f}")
        return {
            "token": "emulator",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self.new_id("Ev"),
            "event_time": int(now),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
        }

    async def emit_event(self, event: dict) -> Ack | None:
        """Deliver an Events API event and wait for the ack (None if the app never acked).

        Like Slack, only event types the app subscribed to are delivered.
        """
        if self.subscribed_events is not None and event["type"] not in self.subscribed_events:
            return None
        try:
            envelope_id, payload, latency = await self.send_envelope("events_api", self.event_payload(event))
        except TimeoutError:
            return None
        return Ack(envelope_id, payload, latency)

    def emit_event_later(self, event: dict) -> None:
        """Deliver an event caused by an API call without blocking that call (as Slack does)."""
        if self._sockets:
            self.spawn(self.emit_event(event))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
        """Poll until `predicate()` (sync or async) is truthy; return its value."""
        deadline = time.perf_counter() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.perf_counter() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(interval)
