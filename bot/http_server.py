"""The thin HTTP server: health now, signal ingestion later."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

HealthCheck = Callable[[], Awaitable[dict]]


def build_http_app(health: HealthCheck) -> web.Application:
    """aiohttp application with `GET /healthz` (200 when healthy, 503 otherwise)."""

    async def healthz(_: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    return app


async def start_http(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (for cleanup) and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # port 0 picks a free one
    return runner, bound
