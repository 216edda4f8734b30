"""Workflow webhooks over loopback.

`POST /hooks/{workflow}`: checks the Slack-style signature (`X-Warroom-Request-Timestamp`, `X-Warroom-Signature:
v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`) with the workflow's secret (401 when missing, wrong or more
than 5 minutes off), then accepts the run: 202 `{"weblink": ...}`. A second request with the same
`Idempotency-Key` is the same run (answered alike, not started twice). Faults: `latency` seconds on every
request; `fail(workflow, status, times)` answers the next requests with that status.

GitHub Actions too: `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches` (REST API version
2022-11-28) with `Authorization: Bearer <token>` (401 `Bad credentials` otherwise), for a workflow declared
with `github_workflow(repository, workflow, inputs, refs)` (404 otherwise); 422 for an unknown ref, inputs that
are not strings, undeclared, more than 10, or a required one missing, as GitHub answers; 204 on success.

`report(instance_id, status, ...)` posts a status report to warroom's callback API, signed with a bearer
token or an HMAC secret like signals are.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

WINDOW = 300


@dataclass
class Received:
    """One run as the runner received it (requests: how many deliveries of it came in)."""

    workflow: str
    instance_id: str
    body: dict[str, Any]
    requests: int = 1


@dataclass
class WebhookEmulator:
    secrets: dict[str, str]  # workflow path name -> HMAC secret
    latency: float = 0.0
    runs: dict[str, Received] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)  # requests answered 401
    faults: dict[str, list[int]] = field(default_factory=dict)
    github_tokens: set[str] = field(default_factory=set)
    github: dict[tuple[str, str], tuple[dict[str, bool], set[str]]] = field(default_factory=dict)  # -> (inputs, refs)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def github_workflow(self, repository: str, workflow: str, inputs: dict[str, bool], refs: tuple[str, ...] = ("main",)) -> None:
        """Declare a workflow_dispatch workflow: its inputs (name -> required) and the refs that exist."""
        self.github[(repository, workflow)] = (inputs, set(refs))

    def fail(self, name: str, status: int = 500, times: int = 1) -> None:
        self.faults.setdefault(name, []).extend([status] * times)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_post("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _signed(self, name: str, request: web.Request, body: bytes) -> bool:
        secret = self.secrets.get(name)
        timestamp = request.headers.get("X-Warroom-Request-Timestamp", "")
        given = request.headers.get("X-Warroom-Signature", "")
        if not secret or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WINDOW:
            return False
        expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given, expected)

    async def _hook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        if not self._signed(name, request, body):
            self.refused.append({"workflow": name, "headers": dict(request.headers)})
            return web.json_response({"error": "bad signature"}, status=401)
        pending = self.faults.get(name)
        if pending:
            return web.json_response({"error": "scripted failure"}, status=pending.pop(0))
        payload = json.loads(body)
        key = request.headers.get("Idempotency-Key") or payload["id"]
        run = self.runs.get(key)
        if run is None:
            self.runs[key] = Received(name, key, payload)
        else:
            run.requests += 1
        return web.json_response({"weblink": f"{self.url}/runs/{key}"}, status=202)

    async def _dispatch(self, request: web.Request) -> web.Response:
        info = request.match_info
        repository, workflow = f"{info['owner']}/{info['repo']}", info["workflow"]
        if self.latency:
            await asyncio.sleep(self.latency)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(("Bearer ", "token ")) or auth.split(" ", 1)[1] not in self.github_tokens:
            self.refused.append({"workflow": workflow, "headers": dict(request.headers)})
            return web.json_response({"message": "Bad credentials", "status": "401"}, status=401)
        declared = self.github.get((repository, workflow))
        if declared is None:
            return web.json_response({"message": "Not Found", "status": "404"}, status=404)
        pending = self.faults.get(workflow)
        if pending:
            return web.json_response({"message": "Server Error"}, status=pending.pop(0))
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"message": "Problems parsing JSON", "status": "400"}, status=400)
        inputs, refs = declared
        given = body.get("inputs") or {}
        problem = None
        if body.get("ref") not in refs:
            problem = f"No ref found for: {body.get('ref')}"
        elif not isinstance(given, dict) or any(not isinstance(v, str) for v in given.values()):
            problem = "Invalid value for inputs"
        elif len(given) > 10:
            problem = "you may only define up to 10 `inputs` for a `workflow_dispatch` event"
        elif set(given) - set(inputs):
            problem = f"Unexpected inputs provided: {sorted(set(given) - set(inputs))}"
        elif [n for n, required in inputs.items() if required and n not in given]:
            problem = f"Required input '{next(n for n, r in inputs.items() if r and n not in given)}' not provided"
        if problem:
            return web.json_response({"message": problem, "status": "422"}, status=422)
        run_id = given.get("warroom_run", f"gh-{len(self.runs)}")
        run = self.runs.get(run_id)
        if run is None:
            self.runs[run_id] = Received(workflow, run_id, body)
        else:
            run.requests += 1  # GitHub has no idempotency key: this would be a second run
        return web.Response(status=204)

    async def report(self, base_url: str, instance_id: str, status: str, *, organization: str = "default",
                     artifacts: list[dict[str, str]] | None = None, token: str | None = None,
                     secret: str | None = None, extra: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """POST a status report to warroom; returns (HTTP status, JSON answer)."""
        body = json.dumps({"status": status, "artifacts": artifacts or [], **(extra or {})}).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if secret is not None:
            ts = str(int(time.time()))
            headers["X-Warroom-Request-Timestamp"] = ts
            headers["X-Warroom-Signature"] = "v0=" + hmac.new(
                secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        url = f"{base_url}/api/v1/{organization}/workflows/instances/{instance_id}"
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)
