"""The thin HTTP server: health, and signal ingestion when given the dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.http_guard import GuardedSite, HttpLimits, connection_phases
from bot.signals_http import add_signal_routes
from bot.workflows_http import add_workflow_routes
from domain.core.deps import Deps

HealthCheck = Callable[[], Awaitable[dict]]


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """aiohttp's own refusals (unknown path, wrong method) in the same JSON shape as ours."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
        message = f"{request.method} {request.path}: {exc.reason}"
        if exc.status == 405:
            message += f" (allowed: {', '.join(sorted(exc.allowed_methods))})"
        return web.json_response({"error": code, "field": None, "message": message}, status=exc.status,
                                 headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None)


def build_http_app(health: HealthCheck, deps: Deps | None = None,
                   wake: Callable[[], None] | None = None, limits: HttpLimits | None = None) -> web.Application:
    """aiohttp application with `GET /healthz` (200 when healthy, 503 otherwise), plus the signal
    ingestion routes when `deps` is given (`wake` is called after each new instance is stored).
    `limits.body_timeout` bounds reading a signal's body; serve it with `start_http` (same limits)."""
    limits = limits or HttpLimits()

    async def healthz(_: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    app = web.Application(client_max_size=1024 * 1024, middlewares=[connection_phases, json_errors])
    app.router.add_get("/healthz", healthz)
    if deps is not None:
        add_signal_routes(app, deps, wake or (lambda: None), body_timeout=limits.body_timeout)
        add_workflow_routes(app, deps, body_timeout=limits.body_timeout)
    return app


async def start_http(app: web.Application, host: str, port: int,
                     limits: HttpLimits | None = None) -> tuple[web.AppRunner, int]:
    """Start serving, slow and surplus clients cut per `limits` (bot/http_guard.py); returns the runner
    (for cleanup) and the bound port (port 0 picks a free one)."""
    limits = limits or HttpLimits()
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.idle_timeout)
    await runner.setup()
    site = GuardedSite(runner, host, port, limits)
    await site.start()
    return runner, site.port
