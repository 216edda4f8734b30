"""Run the Alembic migrations programmatically (the CLI's `db upgrade` calls `upgrade`).

The script location is inside this package, so this works from any working directory and from
an installed wheel; the database URL is passed in, never read from an ini file. The sync
functions may be called from inside a running event loop: the migration then runs in a worker
thread with its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.db import create_engine
from storage.types import UTCDateTime

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic `Config` for our migrations, targeting `url` or an open sync `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = url  # attributes, not main options: no `%` interpolation of passwords
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def target_metadata() -> MetaData:
    """The metadata migrations are generated from: every table in `storage.models`."""
    return SQLModel.metadata


def context_options() -> dict[str, Any]:
    """Options of Alembic's migration context, shared by env.py and `check_models_match`."""
    return {
        "target_metadata": target_metadata(),
        "compare_type": True,
        "render_as_batch": True,  # migrations must also run on SQLite
        "render_item": _render_item,
    }


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our custom column types as plain SQLAlchemy ones so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at `url` down to `revision` (default: empty schema)."""
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """`upgrade` without blocking the running loop (it runs in a worker thread)."""
    await asyncio.to_thread(upgrade, url, revision)


def head_revision() -> str | None:
    """The newest revision id shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None: never migrated)."""
    return run_blocking(lambda: _with_sync_connection(url, lambda c: MigrationContext.configure(c).get_current_revision()))


def check_models_match(url: str) -> list[Any]:
    """Autogenerate diffs between the tables in `storage.models` and the database at `url`.

    An empty list means the migrations (once applied) produce exactly the models.
    """
    def compare(conn: Connection) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts=context_options())
        return list(compare_metadata(ctx, target_metadata()))

    return run_blocking(lambda: _with_sync_connection(url, compare))


async def _with_sync_connection(url: str, fn: Callable[[Connection], T]) -> T:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def run_blocking(make_coro: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine made by `make_coro` to completion from sync code.

    Uses `asyncio.run` when no loop is running in this thread, otherwise a worker thread (the
    calling loop is blocked meanwhile: call from async code only at start-up or in tools).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coroutine(make_coro))

    result: dict[str, Any] = {}

    def worker() -> None:
        try:
            result["value"] = asyncio.run(_as_coroutine(make_coro))
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=worker, name="warroom-migrate")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


async def _as_coroutine(make_coro: Callable[[], Awaitable[T]]) -> T:
    return await make_coro()
