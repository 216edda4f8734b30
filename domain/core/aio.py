"""Aio."""

from __future__ import annotations

import asyncio


async def gather_all(*aws):
    """Like `asyncio.gather`, but lets every call finish before raising the first error.

    A failed call must not leave siblings running while the caller rolls back their session.
    """
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
