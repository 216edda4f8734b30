"""Connection limits for the HTTP server: a deadline for request headers and a cap on open connections.

aiohttp bounds neither: a client sending its headers one byte at a time (slowloris), or opening
connections and saying nothing, holds them for as long as it likes. Each accepted connection gets a
`ConnectionGuard`, a thin protocol in front of aiohttp's own that forwards everything and:

- closes the connection when a request's headers are not complete `header_timeout` seconds after the
  connection opened, or after the first byte following the previous response (an idle kept-alive
  connection is not a slow client: aiohttp's `keepalive_timeout`, set from HTTP_IDLE_TIMEOUT, closes it);
- closes new connections at once while `max_connections` are open.

A request's headers are complete when aiohttp hands the request to the application, which
`connection_phases` (the outermost middleware) reports to the guard. Body read time is bounded by
the handlers that read bodies (bot/signals_http.py). Each dropped client is one log line, no traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL = 10.0  # seconds between two "refused" lines; refusals in between are counted


@dataclass(frozen=True)
class HttpLimits:
    """Bounds on slow or numerous clients (HTTP_* settings)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: float = 75.0
    max_connections: int = 500

    @classmethod
    def from_settings(cls, settings) -> HttpLimits:
        return cls(header_timeout=settings.http_header_timeout, body_timeout=settings.http_body_timeout,
                   idle_timeout=settings.http_idle_timeout, max_connections=settings.http_max_connections)


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "unknown peer")


HEADERS, REQUEST, IDLE, CLOSING = "headers", "request", "idle", "closing"


class ConnectionGuard(asyncio.Protocol):
    """One connection: admitted under the cap, then forwarded to aiohttp's protocol, with a header deadline.

    Phases: HEADERS (the deadline runs) -> REQUEST (a handler has the request) -> IDLE (until the next byte,
    which starts HEADERS again), or CLOSING when the response closes the connection: aiohttp then reads
    and drops what is left of the body for a while ("lingering"), which the same deadline bounds.
    """

    def __init__(self, server: GuardedServer) -> None:
        self._server = server
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._phase = HEADERS
        self._received = 0  # bytes received since HEADERS began
        self.peer = "unknown peer"

    # asyncio.Protocol: everything goes on to aiohttp's protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.peer = _peer(transport)
        if not self._server.admit(self):
            transport.close()
            return
        self._inner = self._server.make_protocol()
        self._inner.connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._phase == IDLE:
            self._await_headers()
        if self._phase == HEADERS:
            self._received += len(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._inner is not None:
            self._server.release(self)
            inner, self._inner = self._inner, None
            inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    # reported by `connection_phases`

    def request_started(self) -> None:
        """aiohttp parsed a request's headers and handed it to the application: the deadline is met."""
        self._cancel_timer()
        self._phase = REQUEST

    def request_finished(self, closing: bool) -> None:
        """The handler is done: the connection is idle until the next request's first byte, or closing."""
        self._phase = CLOSING if closing else IDLE
        if closing:
            self._timer = asyncio.get_running_loop().call_later(self._server.limits.header_timeout, self._linger_late)

    # internals

    def _await_headers(self) -> None:
        self._cancel_timer()
        self._phase, self._received = HEADERS, 0
        self._timer = asyncio.get_running_loop().call_later(self._server.limits.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._timer = None
        if self._phase != HEADERS or self._transport is None or self._inner is None:
            return
        log.info("http: dropped slow client %s: request headers not complete within %gs (%d bytes received)",
                 self.peer, self._server.limits.header_timeout, self._received)
        self._transport.abort()  # nothing worth flushing; abort never waits on the client

    def _linger_late(self) -> None:
        self._timer = None
        if self._transport is not None and self._inner is not None:
            log.debug("http: closed %s: still sending after a closing response", self.peer)
            self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class GuardedServer:
    """Protocol factory for `loop.create_server`: a `ConnectionGuard` in front of each aiohttp protocol."""

    def __init__(self, make_protocol, limits: HttpLimits) -> None:
        self.make_protocol = make_protocol
        self.limits = limits
        self.open: set[ConnectionGuard] = set()
        self._refused_unlogged = 0
        self._last_refusal_log: float | None = None

    def __call__(self) -> ConnectionGuard:
        return ConnectionGuard(self)

    def admit(self, guard: ConnectionGuard) -> bool:
        if len(self.open) < self.limits.max_connections:
            self.open.add(guard)
            return True
        self._refused_unlogged += 1
        now = asyncio.get_running_loop().time()
        if self._last_refusal_log is None or now - self._last_refusal_log >= REFUSAL_LOG_INTERVAL:
            log.warning("http: refused connection from %s: %d connections open (HTTP_MAX_CONNECTIONS)%s",
                        guard.peer, len(self.open), f"; {self._refused_unlogged - 1} more refused since the "
                        "last such line" if self._refused_unlogged > 1 else "")
            self._refused_unlogged, self._last_refusal_log = 0, now
        return False

    def release(self, guard: ConnectionGuard) -> None:
        self.open.discard(guard)


def guard_of(request: web.BaseRequest) -> ConnectionGuard | None:
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    return protocol if isinstance(protocol, ConnectionGuard) else None


@web.middleware
async def connection_phases(request: web.Request, handler) -> web.StreamResponse:
    """Tell the connection's guard when a request's headers are in and when its handler is done."""
    guard = guard_of(request)
    if guard is not None:
        guard.request_started()
    response = None
    try:
        response = await handler(request)
        return response
    finally:
        if guard is not None:
            guard.request_finished(closing=response is None or response.keep_alive is False)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a `GuardedServer`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: HttpLimits, *,
                 backlog: int = 128) -> None:
        super().__init__(runner, backlog=backlog)
        self._host, self._port, self.limits = host, port, limits
        self.guarded: GuardedServer | None = None

    @property
    def port(self) -> int:
        """The bound port (port 0 picks a free one)."""
        return self._server.sockets[0].getsockname()[1] if self._server is not None else self._port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self.guarded = GuardedServer(server, self.limits)
        self._server = await asyncio.get_running_loop().create_server(
            self.guarded, self._host, self._port, backlog=self._backlog, reuse_address=True)
