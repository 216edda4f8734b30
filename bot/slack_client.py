"""The Slack Web API client warroom uses everywhere."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings


def build_web_client(settings: Settings, *, with_token: bool = True, observer: AsyncRetryHandler | None = None,
                     session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """AsyncWebClient on `SLACK_API_URL` that retries rate limits, 5xx and dropped connections.

    Bolt's own client goes without a token: Bolt copies it per request with the token its
    `authorize` returns (and warns when both are set), retry handlers included. `observer`, a
    handler that sees every response and never retries (metrics), goes first. `session`: the HTTP session
    whose connections every call reuses (without one, slack_sdk opens and closes a session, so a TCP (and
    TLS) connection, per call).
    """
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value() if with_token else None,
        base_url=settings.slack_api_url,
        timeout=10,
        session=session,
        retry_handlers=[
            *([observer] if observer else []),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
