"""Every way a Slack Web API call can fail, turned into a PortError.

slack_sdk raises `SlackApiError` whose `response.data` is a dict for Slack's own JSON answers, but
a str (text/plain), an empty dict (text/html) or no data at all (`response` is then aiohttp's own
response, for a body labelled JSON that is not) when a proxy answers a 5xx. A dropped connection
or a timeout raises aiohttp's or asyncio's errors instead. All of them end here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError

from domain.core.ports import NameTaken, PortError

T = TypeVar("T")
SLACK_FAILURES: tuple[type[BaseException], ...] = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)


def _method(response: object) -> str:
    url = getattr(response, "api_url", None) or str(getattr(response, "url", "") or "")
    return url.rsplit("/", 1)[-1] if url else "?"


def _code(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return f"http_{status}" if isinstance(status, int) and status != 200 else "unknown_error"


def port_error(exc: BaseException) -> PortError | None:
    """The PortError for a failed Slack call (None when `exc` is not a Slack failure)."""
    if isinstance(exc, PortError):
        return exc
    if isinstance(exc, SlackApiError):
        code = _code(exc)
        method = _method(exc.response)
        return NameTaken(code) if code == "name_taken" else PortError(code, f"Slack {method}")
    if isinstance(exc, asyncio.TimeoutError):
        return PortError("timeout", "Slack did not answer in time")
    if isinstance(exc, aiohttp.ClientError):
        return PortError("connection_error", f"{type(exc).__name__}: {exc}"[:300])
    return None


async def slack_call(call: Awaitable[T]) -> T:
    """Await a Slack Web API call; any failure is raised as a PortError."""
    try:
        return await call
    except SLACK_FAILURES as exc:
        error = port_error(exc)
        assert error is not None
        raise error from exc
