"""The AI port on `openai.AsyncOpenAI`: chat completions on any OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import logging

import openai

from domain.config.ai import AIConfig
from domain.core.ports import PortError

log = logging.getLogger(__name__)


class OpenAIChat:
    """One client per process (connection pool reused); every call bounded by `config.timeout` in total,
    retries of 429/5xx included (the client honours Retry-After)."""

    def __init__(self, config: AIConfig, api_key: str) -> None:
        self.config = config
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=config.base_url, timeout=config.timeout,
                                         max_retries=config.max_retries)
        self.completions = self.client.chat.completions  # built lazily by the library: once, at start-up

    async def complete(self, system: str, prompt: str, *, max_tokens: int) -> str:
        try:
            answer = await asyncio.wait_for(self.completions.create(
                model=self.config.model, max_tokens=max_tokens, temperature=0.2,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}]),
                self.config.timeout)
        except (TimeoutError, openai.APITimeoutError):
            raise PortError("ai_timeout", f"no answer within {self.config.timeout:g} s") from None
        except openai.RateLimitError as exc:
            raise PortError("ai_rate_limited", _detail(exc)) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise PortError("ai_unauthorized", _detail(exc)) from None
        except openai.APIStatusError as exc:
            raise PortError("ai_error", f"HTTP {exc.status_code}: {_detail(exc)}") from None
        except openai.APIConnectionError as exc:
            raise PortError("ai_unreachable", type(exc).__name__) from None
        except openai.OpenAIError as exc:  # e.g. a response that is not a chat completion
            raise PortError("ai_error", type(exc).__name__) from None
        choices = answer.choices or []
        text = (choices[0].message.content or "") if choices else ""
        log.info("AI answered (%s, %d prompt chars, %d answer chars)", self.config.model, len(prompt), len(text))
        return text

    async def close(self) -> None:
        await self.client.close()


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return str((error or {}).get("message") or exc.message)[:200]
