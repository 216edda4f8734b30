"""An OpenAI-compatible API over loopback: `POST /v1/chat/completions` and `GET /v1/models`.

Shapes follow OpenAI's: a `chat.completion` object with `choices[].message` and `usage`; errors are
`{"error": {"message", "type", "param", "code"}}` with 400 (bad body), 401 (no or wrong bearer key),
404 (unknown model), 429 (rate limited, with `Retry-After`) and 5xx. Faults: latency on every call
(slow answers), scripted failures, and calls that never answer. Every request that passed the key
check is recorded (`requests`, `prompts`) so tests can prove what was, and was not, sent.

What the model says comes from `responder(request)`; the default follows the one instruction
warroom's prompts give that matters to a program: "Answer with a JSON object with the keys: a, b, c"
gets such an object, anything else a short plain-text summary of the prompt's last lines.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON_KEYS = re.compile(r"JSON object with the keys:\s*([a-z_]+(?:\s*,\s*[a-z_]+)*)", re.IGNORECASE)


@dataclass
class Fault:
    """A scripted failure, answered `times` times: `status` (429 carries Retry-After: `retry_after`),
    or with `hang` the request is held until the client gives up."""

    status: int = 500
    retry_after: int | None = None
    times: int = 1
    hang: bool = False


@dataclass(frozen=True)
class ChatRequest:
    """A chat-completions request as received (after the key check)."""

    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    received_at: float = field(default_factory=time.time)

    @property
    def system(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages if m.get("role") == "system")

    @property
    def prompt(self) -> str:
        """Every message's content, as one text (what left the client)."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


def _error(status: int, message: str, type_: str, code: str | None = None, param: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": type_, "param": param, "code": code}},
                             status=status, headers=headers)


def default_responder(request: ChatRequest) -> str:
    """A model that follows warroom's format instructions, with words made from the prompt itself."""
    user = "\n".join(str(m.get("content") or "") for m in request.messages if m.get("role") == "user")
    lines = [line.strip() for line in user.splitlines() if line.strip()]
    gist = "; ".join(lines[-3:])[:300] or "nothing to go on"
    keys = JSON_KEYS.search(request.system)
    if keys:
        names = [k.strip() for k in keys.group(1).split(",")]
        return json.dumps({name: f"{name.replace('_', ' ').capitalize()} (emulated): {gist}" for name in names})
    return f"Emulated summary of {len(lines)} lines. Latest: {gist}"


class OpenAIEmulator:
    """`await emu.start()`, point the client at `emu.base_url` with `emu.api_key`; inspect `emu.requests`."""

    def __init__(self, *, api_key: str = "sk-emulator-key", models: tuple[str, ...] = ("gpt-4o-mini", "local-model"),
                 latency: float = 0.0) -> None:
        self.api_key = api_key
        self.models = models
        self.latency = latency  # seconds before every answer (a slow model)
        self.responder: Callable[[ChatRequest], str] = default_responder
        self.faults: list[Fault] = []
        self.requests: list[ChatRequest] = []
        self.refused: list[int] = []  # statuses answered to requests that never reached the model
        self.waiting = 0  # requests past the key check, not answered yet (e.g. in their latency)
        self._runner: web.AppRunner | None = None
        self._hung: set[asyncio.Future[None]] = set()
        self._counter = 0
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def prompts(self) -> list[str]:
        return [r.prompt for r in self.requests]

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for waiter in self._hung:
            waiter.cancel()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def fail(self, status: int = 500, *, times: int = 1, retry_after: int | None = None) -> Fault:
        fault = Fault(status, retry_after, times)
        self.faults.append(fault)
        return fault

    def hang(self, *, times: int = 1) -> Fault:
        """The next `times` requests never answer (the server keeps the connection open)."""
        fault = Fault(0, None, times, hang=True)
        self.faults.append(fault)
        return fault

    def heal(self) -> None:
        self.faults.clear()
        self.latency = 0.0
        for waiter in self._hung:
            waiter.cancel()

    # ------------------------------------------------------------------ HTTP
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            self.refused.append(401)
            return _error(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                          "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error")
        if key != self.api_key:
            self.refused.append(401)
            return _error(401, f"Incorrect API key provided: {key[:3]}***{key[-4:]}.", "invalid_request_error",
                          "invalid_api_key")
        self.waiting += 1
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await handler(request)
        finally:
            self.waiting -= 1

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "emulator"} for m in self.models]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.refused.append(400)
            return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        problem = _body_problem(body)
        if problem:
            self.refused.append(400)
            return _error(400, problem[1], "invalid_request_error", param=problem[0])
        if body["model"] not in self.models:
            self.refused.append(404)
            return _error(404, f"The model `{body['model']}` does not exist or you do not have access to it.",
                          "invalid_request_error", "model_not_found")
        chat = ChatRequest(body["model"], body["messages"], body)
        self.requests.append(chat)
        for fault in self.faults:
            if fault.times > 0:
                fault.times -= 1
                return await self._fault(fault)
        content = self.responder(chat)
        finish = "stop"
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(limit, int) and len(content) > limit * 4:
            content, finish = content[: limit * 4], "length"
        self._counter += 1
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in chat.messages) // 4 + 1
        completion_tokens = len(content) // 4 + 1
        return web.json_response({
            "id": f"chatcmpl-emu{self._counter:06d}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"], "system_fingerprint": "fp_emulator",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })

    async def _fault(self, fault: Fault) -> web.StreamResponse:
        if fault.hang:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._hung.add(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                pass
            finally:
                self._hung.discard(waiter)
            return _error(503, "The server is shutting down.", "server_error")
        if fault.status == 429:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return _error(429, "Rate limit reached for requests. Please try again later.", "requests",
                          "rate_limit_exceeded", headers=headers)
        return _error(fault.status, "The server had an error while processing your request. Sorry about that!",
                      "server_error")


def _body_problem(body: Any) -> tuple[str | None, str] | None:
    """(param, message) of the first thing OpenAI would refuse in a chat-completions body, else None."""
    if not isinstance(body, dict):
        return None, "The request body must be a JSON object."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model", "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages", "Invalid 'messages': empty array. Expected an array with minimum length 1."
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            return f"messages[{i}].role", f"Invalid value for 'messages[{i}].role'."
        if not isinstance(m.get("content"), str | list):
            return f"messages[{i}].content", f"Invalid type for 'messages[{i}].content': expected a string."
    for name in ("max_tokens", "max_completion_tokens"):
        if name in body and body[name] is not None and (not isinstance(body[name], int) or body[name] < 1):
            return name, f"Invalid '{name}': expected an integer greater than 0."
    return None
