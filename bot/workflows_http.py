"""Workflows report back: `POST /api/v1/{organization}/workflows/instances/{id}` with
`{"status": "running" | "completed" | ..., "artifacts": [{"name", "link"}], "weblink", "message"}`.

Authenticated like signals: `workflows.sources`, else `signals.sources` (bearer token or HMAC, a timestamped
signature accepted once). Refusals are JSON `{"error", "field", "message"}`, always 4xx (503 only when the
database is down). Reporting the same thing again changes nothing (200).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Mapping

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.signals_http import error_response, read_capped
from domain.core.deps import Deps
from domain.signals.auth import authenticate
from domain.signals.errors import IngestError
from domain.signals.replay import SignatureLedger, replayed
from domain.workflows import ReportRefused, apply_report, parse_report, show

log = logging.getLogger(__name__)
CALLBACK_PATH = "/api/v1/{organization}/workflows/instances/{instance_id}"


def add_workflow_routes(app: web.Application, deps: Deps, env: Mapping[str, str] | None = None,
                        body_timeout: float | None = None) -> None:
    config = deps.config
    secrets = os.environ if env is None else env
    sources = config.workflows.sources or config.signals.sources
    auth_config = config.signals.model_copy(update={"sources": sources})
    ledger = SignatureLedger(deps.sessions.kw["bind"])
    showing: set[asyncio.Task[None]] = set()  # message edits after the answer; awaited at shutdown

    async def finish(_: web.Application) -> None:
        if showing:
            await asyncio.wait(set(showing), timeout=10)

    app.on_shutdown.append(finish)

    def show_later(instance_id: str) -> None:
        task = asyncio.create_task(show(deps, instance_id))
        showing.add(task)
        task.add_done_callback(showing.discard)
        task.add_done_callback(_log_failure)

    def refused(error: ReportRefused) -> web.Response:
        return web.json_response(error.as_json(), status=error.status)

    async def report(request: web.Request) -> web.Response:
        organization, instance_id = request.match_info["organization"], request.match_info["instance_id"]
        try:
            body = await read_capped(request, config.workflows.callback_max_bytes, body_timeout)
            verified = authenticate(request.headers, body, organization, auth_config, secrets)
        except IngestError as error:
            return error_response(error)
        try:
            try:
                data = json.loads(body)
            except ValueError:
                raise ReportRefused(400, "malformed_json", "the body is not JSON", None) from None
            parsed = parse_report(data)
        except ReportRefused as error:
            return refused(error)
        if verified.signature is not None:
            try:
                if not await ledger.claim(verified):
                    return error_response(replayed(verified))
            except (SQLAlchemyError, OSError):
                log.exception("could not check the signature of a workflow report")
                return web.json_response({"error": "unavailable", "field": None, "message": "retry later"}, status=503)
        try:
            status, changed = await apply_report(deps, instance_id.lower(), parsed)
        except ReportRefused as error:
            return refused(error)
        except (SQLAlchemyError, OSError):
            log.exception("could not store the report of workflow instance %s", instance_id)
            if verified.signature is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await ledger.release(verified)
            return web.json_response({"error": "unavailable", "field": None, "message": "retry later"}, status=503)
        if changed:
            show_later(instance_id.lower())
        return web.json_response({"id": instance_id.lower(), "status": status,
                                  "result": "updated" if changed else "unchanged"}, status=200)

    app.router.add_post(CALLBACK_PATH, report)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("showing a workflow run failed (the workflow_runs job shows it later)", exc_info=task.exception())
