"""Workflow runner adapter.

`kind: webhook`: POST the run to the workflow's webhook, signed like Slack signs requests. Headers:
`X-Warroom-Request-Timestamp` (Unix seconds) and `X-Warroom-Signature: v0=<hex HMAC-SHA256 of
"v0:<timestamp>:<body>">` with the workflow's secret; `Idempotency-Key: <instance id>` (the same on
every retry). A 2xx accepts the run (a JSON body may give `weblink`).

`kind: github`: GitHub Actions `workflow_dispatch` (`POST /repos/{repository}/actions/workflows/{workflow}/dispatches`,
a bearer token) with the parameters as inputs plus `warroom_run` (the instance id); 204 accepts it. GitHub
has no idempotency key: a workflow should use `warroom_run` as its concurrency group.

Anything else, a timeout or a connection failure is a `PortError`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from domain.config.workflows import WorkflowConfig, WorkflowsConfig
from domain.core.ports import PortError, WorkflowStarted
from domain.signals.auth import timestamped_signature

TIMESTAMP_HEADER, SIGNATURE_HEADER = "X-Warroom-Request-Timestamp", "X-Warroom-Signature"
RUN_INPUT = "warroom_run"  # the workflow_dispatch input carrying the run id (what it reports back to)


class WebhookWorkflows:
    """One aiohttp session, opened on first use; `close()` releases it."""

    def __init__(self, config: WorkflowsConfig, env: Mapping[str, str] | None = None) -> None:
        self._config = config
        self._env = os.environ if env is None else env
        self._session: aiohttp.ClientSession | None = None

    def _setting(self, inline: str | None, env_name: str | None) -> str | None:
        if env_name and self._env.get(env_name, "").strip():
            return self._env[env_name].strip()
        return inline or None

    def missing(self) -> list[str]:
        """What an enabled workflow lacks to run (its URL, secret or token variable unset), one line each."""
        out = []
        for w in self._config.enabled():
            if w.kind == "github":
                if not self._setting(w.token, w.token_env):
                    out.append(f"workflow {w.name!r}: the environment variable {w.token_env} (its GitHub token) is not set")
                continue
            if not self._setting(w.url, w.url_env):
                out.append(f"workflow {w.name!r}: the environment variable {w.url_env} (its webhook URL) is not set")
            if not self._setting(w.secret, w.secret_env):
                out.append(f"workflow {w.name!r}: the environment variable {w.secret_env} (its HMAC key) is not set")
        return out

    async def start(self, workflow: str, instance_id: str, payload: dict[str, Any]) -> WorkflowStarted:
        found: WorkflowConfig | None = self._config.definition(workflow)
        if found is None:
            raise PortError("unknown_workflow", workflow)
        if found.kind == "github":
            return await self._dispatch(found, instance_id, payload)
        url, secret = self._setting(found.url, found.url_env), self._setting(found.secret, found.secret_env)
        if not url or not secret:
            raise PortError("not_configured", f"the URL or secret of workflow {workflow!r} is not set")
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "Idempotency-Key": instance_id,
                   TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: timestamped_signature(secret, timestamp, body)}
        text = await self._post(url, body, headers, found.timeout_seconds)
        try:
            answer = json.loads(text) if text.strip() else {}
        except ValueError:
            answer = {}
        weblink = answer.get("weblink") if isinstance(answer, dict) else None
        return WorkflowStarted(weblink if isinstance(weblink, str) and weblink.startswith(("http://", "https://")) else None)

    async def _post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
        """POST; the answer's text when it is a 2xx, else PortError."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                text = await response.text(errors="replace")
                if response.status // 100 != 2:
                    raise PortError(f"http_{response.status}", text[:300])
                return text
        except TimeoutError:
            raise PortError("timeout", f"no answer within {timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise PortError("connection_error", str(exc)[:300]) from None

    async def _dispatch(self, found: WorkflowConfig, instance_id: str, payload: dict[str, Any]) -> WorkflowStarted:
        token = self._setting(found.token, found.token_env)
        if not token:
            raise PortError("not_configured", f"the GitHub token of workflow {found.name!r} is not set")
        inputs = {name: str(value) for name, value in (payload.get("parameters") or {}).items()}
        inputs[RUN_INPUT] = instance_id
        body = json.dumps({"ref": found.ref, "inputs": inputs}, separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"}
        url = f"{found.api_url.rstrip('/')}/repos/{found.repository}/actions/workflows/{quote(found.workflow or '', safe='')}/dispatches"
        await self._post(url, body, headers, found.timeout_seconds)
        web = "https://github.com" if found.api_url.rstrip("/") == "https://api.github.com" else None
        return WorkflowStarted(f"{web}/{found.repository}/actions/workflows/{found.workflow}" if web else None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
