"""HTTP signal ingestion: `POST /api/v1/{organization}/signals/instances` (Dispatch's API) and `POST /signals`.

Reads the body (capped, within a time limit), authenticates the source, validates, checks a timestamped
signature was not used before (domain/signals/replay.py), stores the instance as pending, commits
(together with the posts that arrived meanwhile: domain/signals/group_commit.py), wakes the worker, then answers. Every refusal is JSON: {"error", "field", "message"}.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from domain.core.deps import Deps
from domain.signals.auth import authenticate, check_definition
from domain.signals.errors import IngestError
from domain.signals.group_commit import GroupCommitter
from domain.signals.ingest import parse_json, parse_submission
from domain.signals.replay import SignatureLedger, replayed

log = logging.getLogger(__name__)

# Flushes (one INSERT + COMMIT each, on a kept connection) running at once: below the engine's pool (5 on Postgres),
# so bursts never open and close overflow connections; on SQLite writers take turns anyway.
FLUSHERS = 2

INSTANCES_PATH = "/api/v1/{organization}/signals/instances"
SHORT_PATH = "/signals"


def _too_large(limit: int) -> IngestError:
    return IngestError(413, "body_too_large", f"the body is larger than the limit of {limit} bytes "
                       "(signals.max_body_bytes)", "body")


async def read_capped(request: web.Request, limit: int, timeout: float | None = None) -> bytes:
    """The request body, refusing (413) as soon as it is known to exceed `limit` bytes, chunked or not;
    408 when it is not complete within `timeout` seconds; 400 when it cannot be decoded or the client
    closed the connection before sending all of it."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_any():
                body += chunk
                if len(body) > limit:
                    raise _too_large(limit)
    except TimeoutError:
        raise IngestError(408, "body_timeout", f"the body was not complete within {timeout:g} s "
                          f"({len(body)} bytes received; HTTP_BODY_TIMEOUT)", "body") from None
    except web.RequestPayloadError as exc:  # bad chunking, or a Content-Encoding the body does not match
        raise IngestError(400, "malformed_body", f"the body could not be read: {exc.__cause__ or exc}",
                          "body") from None
    except ConnectionError:
        raise IngestError(400, "incomplete_body", "the client closed the connection before the body was "
                          f"complete ({len(body)} bytes received)", "body") from None
    return bytes(body)


# Refusals after which the rest of the body is not read (or cannot be): the connection is closed.
_CLOSING = {"body_too_large", "body_timeout", "malformed_body", "incomplete_body"}
# Refusals that mean the client is slow or gone, not that it sent something wrong: logged, one line each.
_DROPPED = {"body_timeout", "incomplete_body"}


def error_response(error: IngestError) -> web.Response:
    response = web.json_response(error.as_json(), status=error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="warroom signals"'
    if error.code in _CLOSING:
        response.force_close()
    return response


def _unavailable() -> web.Response:
    return web.json_response({"error": "unavailable", "field": None,
                              "message": "the signal could not be stored; retry later"}, status=503)


def add_signal_routes(app: web.Application, deps: Deps, wake: Callable[[], None],
                      env: Mapping[str, str] | None = None, body_timeout: float | None = None) -> None:
    """Add both ingestion routes to `app`; `wake()` is called after each new instance is committed.

    `env` holds the secrets named by sources' `token_env`/`secret_env` (default: the process environment);
    `body_timeout`: seconds a client has to send the body once its headers are in (None: no bound).
    """
    config = deps.config
    signals = config.signals
    secrets = os.environ if env is None else env
    committer = GroupCommitter(deps.sessions.kw["bind"], flushers=FLUSHERS)
    ledger = SignatureLedger(deps.sessions.kw["bind"])

    async def release(_: web.Application) -> None:
        await committer.close()

    app.on_cleanup.append(release)

    async def ingest(request: web.Request, organization: str) -> web.Response:
        try:
            body = await read_capped(request, signals.max_body_bytes, body_timeout)
            verified = authenticate(request.headers, body, organization, signals, secrets)
            submission = parse_submission(parse_json(body), organization, verified.source.name, config)
            check_definition(verified.source, submission.definition)
        except IngestError as error:
            if error.code in _DROPPED:
                log.info("signals: dropped client %s: %s", request.remote, error.message)
            return error_response(error)
        if verified.signature is not None:
            try:
                first_use = await ledger.claim(verified)
            except (SQLAlchemyError, OSError):
                log.exception("could not check the signature of signal instance %s", submission.id)
                return _unavailable()
            if not first_use:
                log.warning("signals: refused a replayed request from %s (source %s)", request.remote,
                            verified.source.name)
                return error_response(replayed(verified))
        try:
            instance_id, created = submission.id, await committer.store(submission)
        except (SQLAlchemyError, OSError):
            log.exception("could not store signal instance %s", submission.id)
            if verified.signature is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):  # else it stays claimed until it expires
                    await ledger.release(verified)
            return _unavailable()
        if not created:
            return web.json_response({"id": instance_id, "status": "duplicate"}, status=200)
        try:
            wake()
        except Exception:  # the instance is committed; the worker's own polling will pick it up
            log.exception("waking the signal worker failed")
        return web.json_response({"id": instance_id, "status": "accepted"}, status=202)

    async def instances(request: web.Request) -> web.Response:
        return await ingest(request, request.match_info["organization"])

    async def short(request: web.Request) -> web.Response:
        return await ingest(request, signals.organization)

    app.router.add_post(INSTANCES_PATH, instances)
    app.router.add_post(SHORT_PATH, short)
