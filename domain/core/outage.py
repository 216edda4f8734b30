"""The database going away, as listeners see it: which failures mean "unreachable", and when a
submission's write was committed (so its modal may close).

A modal submission is acked only once what it asked for is stored (never ack a submission you could
not store): the registry runs the listener under `watching_commits()` and closes the modal when the
listener's first transaction commits (the session class of `storage.db.session_factory` calls
`committed()`), or keeps it open with `OUTAGE_MESSAGE` when the database fails or does not answer
within the ack budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

OUTAGE_MESSAGE = "warroom can't reach its database right now: nothing was saved. Submit again in a minute."
OUTAGE_COMMAND_MESSAGE = "warroom can't reach its database, try again in a minute."

_commit_watch: ContextVar[asyncio.Event | None] = ContextVar("warroom_commit_watch", default=None)


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether `exc` means the database is unreachable, locked or too slow (not a bug or a refusal)."""
    if exc is None:
        return False
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeoutError, TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or _driver_connection_error(exc.orig)
    return isinstance(exc, OSError)


_DRIVER_OUTAGES = ("Connection", "CannotConnectNow", "Shutdown", "TooManyConnections", "InvalidCatalogName",
                   "ObjectNotInPrerequisiteState")  # asyncpg: a connection lost, refused or not allowed


def _driver_connection_error(orig: BaseException | None) -> bool:
    seen = 0
    while orig is not None and seen < 5:  # the dialect's adapter error wraps the driver's own
        if any(part in type(orig).__name__ for part in _DRIVER_OUTAGES) or isinstance(orig, (OSError, TimeoutError)):
            return True
        orig, seen = orig.__cause__, seen + 1
    return False


@contextmanager
def watching_commits() -> Iterator[asyncio.Event]:
    """An event set by the first commit made by a task created inside the block (tasks copy the context)."""
    stored = asyncio.Event()
    token = _commit_watch.set(stored)
    try:
        yield stored
    finally:
        _commit_watch.reset(token)


def committed() -> None:
    """Called by the session after each successful commit: tells a watching submission it is stored."""
    stored = _commit_watch.get()
    if stored is not None:
        stored.set()
