"""Socket Mode: the websocket endpoint, envelopes and acks, disconnects, and Events API delivery."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from emulators.slackemu.state import Ack, Workspace

log = logging.getLogger(__name__)


class SocketModeMixin(Workspace):
    """A workspace's Socket Mode side: serves `/socket` and sends envelopes to the connected app."""

    def __init__(self, team_id: str = "T0001", trigger_ttl: float = 3.0, ack_timeout: float = 3.0) -> None:
        super().__init__(team_id, trigger_ttl)
        self.ack_timeout = ack_timeout
        self.envelopes: dict[str, dict] = {}
        self.acks: list[Ack] = []
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._rr = itertools.count()
        self._pending: dict[str, tuple[asyncio.Future, float]] = {}
        self._connected = asyncio.Event()
        self._background: set[asyncio.Task] = set()

    def spawn(self, coro) -> asyncio.Task:
        """Run `coro` in the background; cancelled by stop()."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def new_socket_url(self) -> str:
        """A fresh websocket URL (what apps.connections.open returns)."""
        ticket = self.new_id("tk")
        self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}"

    @property
    def connections(self) -> int:
        return sum(1 for ws in self._sockets if not ws.closed)

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket: call apps.connections.open")
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._connected.set()
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "emulator", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        })
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        self._on_ack(json.loads(msg.data))
                    except (ValueError, AttributeError):
                        log.warning("emulator: unreadable frame from the app: %r", msg.data)
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
        """Wait until an app holds an open Socket Mode connection."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send_envelope(self, kind: str, payload: dict, *, accepts_response_payload: bool = False,
                            envelope_id: str | None = None, retry_attempt: int = 0,
                            retry_reason: str | None = None) -> tuple[str, dict | None, float]:
        """Send an envelope to one connected app instance and wait for its ack (TimeoutError if none)."""
        if not self.connections:
            await self.wait_connected(self.ack_timeout)
        envelope_id = envelope_id or self.new_id("env-")
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": accepts_response_payload}
        if retry_attempt:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or "timeout"
        self.envelopes[envelope_id] = envelope
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = (future, time.perf_counter())
        for _ in range(max(1, len(self._sockets))):
            open_sockets = [ws for ws in self._sockets if not ws.closed]
            if not open_sockets:
                break
            ws = open_sockets[next(self._rr) % len(open_sockets)]
            try:
                await ws.send_json(envelope)
                break
            except (ConnectionError, RuntimeError):
                continue  # that connection just went away: try another one
        try:
            ack_payload, latency = await asyncio.wait_for(future, self.ack_timeout)
        except TimeoutError:
            self._pending.pop(envelope_id, None)
            raise TimeoutError(f"no ack for {kind} envelope {envelope_id} within {self.ack_timeout}s") from None
        return envelope_id, ack_payload, latency

    async def disconnect_sockets(self, reason: str = "refresh_requested") -> None:
        """Ask every connected client to reconnect (as Slack does periodically), then close."""
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_json({"type": "disconnect", "reason": reason,
                                    "debug_info": {"host": "emulator"}})
                await ws.close()

    def drop_sockets(self) -> asyncio.Task:
        """Close every socket without warning (a network failure); await the result to wait for it."""
        sockets, self._sockets = list(self._sockets), []
        self._connected.clear()

        async def close_all() -> None:
            for ws in sockets:
                await ws.close(code=1006)

        return self.spawn(close_all())

    # ------------------------------------------------------------------ Events API
    def event_payload(self, event: dict) -> dict:
        """Wrap `event` in the event_callback body Slack sends."""
        now = time.time()
        event.setdefault("event_ts", f"{now:.6f}")
        return {
            "token": "emulator", "team_id": self.team_id, "context_team_id": self.team_id,
            "api_app_id": self.app_id, "event": event, "type": "event_callback",
            "event_id": self.new_id("Ev"), "event_time": int(now), "event_context": self.new_id("EC"),
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }

    async def emit_event(self, event: dict) -> Ack | None:
        """Deliver an Events API event and wait for the ack (None if unsubscribed or never acked)."""
        if self.subscribed_events is not None and event["type"] not in self.subscribed_events:
            return None
        try:
            envelope_id, payload, latency = await self.send_envelope("events_api", self.event_payload(event))
        except TimeoutError:
            return None
        return Ack(envelope_id, payload, latency)

    def emit_event_later(self, event: dict) -> None:
        """Deliver an event caused by an API call without blocking that call (as Slack does)."""
        if self.connections and (self.subscribed_events is None or event["type"] in self.subscribed_events):
            event.setdefault("event_ts", f"{time.time():.6f}")  # when it happened, however late it is delivered
            self.spawn(self.emit_event(event))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
        """Poll until `predicate()` (sync or async) is truthy; return its value, or raise TimeoutError."""
        deadline = time.perf_counter() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.perf_counter() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)
