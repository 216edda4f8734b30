"""Small asyncio helpers shared by the flows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")


@overload
async def gather_all(aw1: Awaitable[T1], aw2: Awaitable[T2], /) -> tuple[T1, T2]: ...


@overload
async def gather_all(*aws: Awaitable[object]) -> tuple[object, ...]: ...


async def gather_all(*aws: Awaitable[Any]) -> tuple[Any, ...]:
    """Like `asyncio.gather`, but lets every call finish before raising the first error.

    A failed call must not leave siblings running while the caller rolls back their session.
    Returns the results in the order of `aws`.
    """
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return tuple(results)


async def until_settled(attempt: Callable[[], Awaitable[bool]], *, follow_ups: int = 2) -> None:
    """Run `attempt` again while it reports that its claim saw a change stored meanwhile (returns True), at
    most `follow_ups` more times; a resume job picks up anything left after that."""
    for _ in range(follow_ups + 1):
        if not await attempt():
            return


class AckFirst:
    """Counts submissions between their arrival and their ack, so that background work (creating incidents,
    setting up channels) waits for a burst of them to be acked before it takes the event loop: an ack must
    never queue behind the CPU of earlier reports' set-ups. The wait is bounded, so nothing starves."""

    def __init__(self, max_wait: float = 1.0) -> None:
        self.max_wait = max_wait
        self._pending = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def arrived(self) -> None:
        self._pending += 1
        self._quiet.clear()

    def acked(self) -> None:
        self._pending = max(self._pending - 1, 0)
        if self._pending == 0:
            self._quiet.set()

    async def quiet(self) -> None:
        """Return once no submission waits for its ack (or after `max_wait` seconds)."""
        if self._pending:
            try:
                await asyncio.wait_for(self._quiet.wait(), self.max_wait)
            except TimeoutError:
                pass


class Memo(Generic[T]):
    """One value, loaded when first asked for and again once it is `ttl` seconds old."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: T | None = None
        self._loaded_at = float("-inf")

    async def get(self, load: Callable[[], Awaitable[T]]) -> T:
        if self._value is None or time.monotonic() - self._loaded_at >= self.ttl:
            self._value, self._loaded_at = await load(), time.monotonic()
        return self._value
