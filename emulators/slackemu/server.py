"""HTTP side: Web API routing (parsing, auth, faults, errors) and response_url endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from emulators.slackemu.blockkit_rules import check_message
from emulators.slackemu.socket import SocketModeMixin
from emulators.slackemu.state import ApiCall
from emulators.slackemu.webapi import METHODS, ApiError

log = logging.getLogger("slackemu")
JSON_PARAMS = ("blocks", "view", "attachments", "users", "metadata")
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60


class ServerMixin(SocketModeMixin):
    """Mixed into SlackEmulator: the aiohttp application and its request handlers."""

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/respond/{rid}", self._handle_response_url)
        return app

    # ------------------------------------------------------------------ Web API
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        """The call's arguments (query + form or JSON body) and the token found in the body, if any."""
        params: dict[str, Any] = dict(request.query)
        body_token = params.pop("token", None)
        if request.method == "POST" and request.can_read_body:
            body = await request.read()
            if request.content_type == "application/json" and body:
                data = json.loads(body)
                params.update(data if isinstance(data, dict) else {})
                params.pop("token", None)  # Slack ignores a token inside a JSON body
            elif body:
                form = dict(parse_qsl(body.decode(), keep_blank_values=True))
                body_token = form.pop("token", None) or body_token
                params.update(form)
        for key in JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
        params.pop("team_id", None)  # Bolt adds it to every call
        return params, body_token

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise ApiError("invalid_auth")
        wants_app_token = method == "apps.connections.open"
        if (token == self.app_token) != wants_app_token:
            raise ApiError("not_allowed_token_type")

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        started = time.perf_counter()
        try:
            params, body_token = await self._params(request)
        except (json.JSONDecodeError, UnicodeDecodeError):
            params, body_token = {}, None
            self.calls.append(ApiCall(method, {}, False, "invalid_json", time.time(), 0.0))
            return web.json_response({"ok": False, "error": "invalid_json"})
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else body_token
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)

        def record(ok: bool, error: str | None, status: int = 200) -> None:
            self.calls.append(ApiCall(method, params, ok, error, time.time(), time.perf_counter() - started, status))
            if not ok:
                log.info("slackemu: %s -> %s %s", method, status, error)

        injection = self.faults.take(method, params)
        if injection is not None:
            if injection.status == 429:
                record(False, "ratelimited", 429)
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(int(injection.retry_after or 1))})
            if injection.status >= 500:
                record(False, f"http_{injection.status}", injection.status)
                return web.Response(status=injection.status, text="upstream error")
            record(False, injection.error)
            return web.json_response({"ok": False, "error": injection.error or "fatal_error"})

        hang = self.faults.take_hang(method, params)
        if hang is not None and not hang.after:
            return await self._hang(hang, params, record)
        handler = METHODS.get(method)
        try:
            if handler is None:
                raise ApiError("unknown_method")
            self._check_token(method, token)
            result = handler(self, params)
            if asyncio.iscoroutine(result):
                result = await result
            if hang is not None:
                return await self._hang(hang, params, record)
        except ApiError as exc:
            record(False, exc.code)
            if exc.messages:
                log.info("slackemu: %s details: %s", method, exc.messages)
            body: dict[str, Any] = {"ok": False, "error": exc.code}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            return web.json_response(body)
        record(True, None)
        return web.json_response({"ok": True, **(result or {})})

    async def _hang(self, hang, params: dict, record) -> web.Response:
        """Hold the request until the test releases it; then answer an error nobody should act on.

        Logged as ok with `reply_lost` when the call took effect (`after`), else as `request_hung`.
        """
        hang.params = params
        hang.reached.set()
        await hang.released.wait()
        if hang.after:
            record(True, "reply_lost")
        else:
            record(False, "request_hung")
        return web.json_response({"ok": False, "error": "request_hung"})

    # ------------------------------------------------------------------ response_url
    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        started = time.perf_counter()
        target = self.response_urls.get(rid)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None

        def answer(error: str | None, status: int = 200, messages: list[str] | None = None) -> web.Response:
            self.calls.append(ApiCall("response_url", body if isinstance(body, dict) else {}, error is None, error,
                                      time.time(), time.perf_counter() - started, status))
            if error is None:
                return web.Response(text="ok")
            if status != 200:
                return web.Response(status=status, text=error)
            data: dict[str, Any] = {"ok": False, "error": error}
            if messages:
                data["response_metadata"] = {"messages": messages}
            return web.json_response(data)

        if target is None:
            return answer("invalid_url", 404)
        if target["uses"] >= RESPONSE_URL_USES or time.monotonic() - target["created"] > RESPONSE_URL_TTL:
            return answer("used_url", 404)
        if not isinstance(body, dict):
            return answer("invalid_payload", 400)
        if not body.get("delete_original"):
            if not body.get("text") and not body.get("blocks"):
                return answer("no_text")
            errors = check_message(body.get("text"), body.get("blocks"))
            if errors:
                return answer("invalid_blocks", 200, errors)
        target["uses"] += 1
        self.respond(target, body)
        return answer(None)
