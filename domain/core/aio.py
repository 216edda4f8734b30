"""Aio."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar, overload

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
