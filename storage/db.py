"""Async engine and session factory for SQLite (aiosqlite) and Postgres (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import await_only

from domain.core.outage import committed

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_engine(url: str, *, sqlite_foreign_keys: bool = True, sqlite_deferred: bool = False,
                  **kwargs: Any) -> AsyncEngine:
    """An `AsyncEngine` for `url`; extra keyword arguments go to `create_async_engine`.

    SQLite: foreign keys enforced (migrations pass `sqlite_foreign_keys=False`, as Alembic's
    batch mode needs), WAL journal, `busy_timeout` 5000 ms, and transactions begun with an
    explicit `BEGIN IMMEDIATE` so that DDL is transactional and SAVEPOINTs (`session.begin_nested()`)
    behave. Postgres: a small pool whose connections are recycled every 30 minutes and pinged when handed
    out again (`_ping_at_checkout`).
    SQLite serialises writers: it suits one bot process, use Postgres for more. `sqlite_deferred` begins
    transactions with a plain `BEGIN` instead (for a connection that only reads, or whose first statement
    writes: WAL readers never wait for the writer).
    """
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys, immediate=not sqlite_deferred)
        return engine
    options: dict[str, Any] = {"pool_recycle": 1800}
    if "poolclass" not in kwargs:
        options.update(pool_size=5, max_overflow=10, pool_timeout=10)
    options.update(kwargs)
    engine = create_async_engine(url, **options)
    _ping_at_checkout(engine)
    return engine


def _ping_at_checkout(engine: AsyncEngine) -> None:
    """Make sure a pooled connection is alive when it is handed out again, in one round trip.

    SQLAlchemy's `pool_pre_ping` does the same in three on asyncpg (BEGIN, an empty query, ROLLBACK): under a
    burst of set-ups a tenth of the CPU. A connection the server already closed (a restart, a failover, a
    terminated backend) is often known without asking. A dead one drops the pool's connections, as pre-ping does,
    and the checkout gets a new one; one that fails otherwise (left mid-query by a cancelled caller) is replaced
    alone."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["used"] = True

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if not record.info.pop("used", False):  # just connected
            return
        driver = dbapi_conn.driver_connection
        try:
            if driver.is_closed():
                raise ConnectionError("closed by the server")
            await_only(driver.execute("SELECT 1"))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:  # the server went away
            raise exc.InvalidatePoolError(str(error)) from error
        except Exception as error:  # this connection only: e.g. left mid-query by a cancelled caller
            raise exc.DisconnectionError(str(error)) from error


def ack_engine(url: str) -> AsyncEngine:
    """The engine of the work done before a submission's ack (its checks, its one-statement store): a pool of
    its own, so an ack never waits for a connection behind set-ups and jobs, and on SQLite deferred
    transactions, so its reads never wait for the write lock."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url, sqlite_deferred=True)
    return create_engine(url, pool_size=2, max_overflow=3, pool_timeout=3)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, immediate: bool = True) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite quirk).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    if not immediate:
        @event.listens_for(engine.sync_engine, "begin")
        def _on_deferred_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return

    database = engine.url.database or ""
    turns = _Turns()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        _after_acks(database)
        dbapi_conn = conn.connection.dbapi_connection
        turns.take(dbapi_conn)
        # IMMEDIATE takes the write lock up front: a transaction that reads and then writes can
        # otherwise fail at once with "database is locked" (busy_timeout does not apply to that
        # lock upgrade) when two handlers report at the same moment.
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turns.give_back(dbapi_conn)
            raise

    turns.follow(engine.sync_engine.dialect)


class _Turns:
    """An SQLite engine's transactions in this process take the write lock in turn, first come first served.

    Every transaction begins IMMEDIATE, and SQLite hands its lock to whichever waiter polls first, each
    polling with growing sleeps (up to 100 ms): under a burst of set-ups the lock sat free between them, and
    one in ten waited over 130 ms, one in a hundred almost a second, for transactions of a millisecond. Here
    a transaction about to begin waits its turn on the event loop instead, and the turn passes on the moment
    the one before commits or rolls back. A turn not given within SQLITE_BUSY_TIMEOUT_MS is not waited for
    (SQLite's own lock decides, as without turns): a caller that nests transactions cannot hang."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: Any = None

    def take(self, dbapi_conn: Any) -> None:
        """In the engine's `begin` (SQLAlchemy's greenlet): wait for this connection's turn."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous caller: nothing of ours to wait for
            return
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        try:
            await_only(asyncio.wait_for(self._lock.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000))
        except TimeoutError:
            return
        self._holder = dbapi_conn

    def give_back(self, dbapi_conn: Any) -> None:
        if isinstance(dbapi_conn, PoolProxiedConnection):  # how SQLAlchemy commits and resets
            dbapi_conn = dbapi_conn.dbapi_connection
        if self._holder is not None and self._holder is dbapi_conn and self._lock is not None:
            self._holder = None
            self._lock.release()

    def follow(self, dialect: Any) -> None:
        """Give the turn back as the connection's transaction ends (commit, rollback, closed, terminated)."""
        for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
            setattr(dialect, name, self._then_give_back(getattr(dialect, name)))

    def _then_give_back(self, end: Callable[[Any], None]) -> Callable[[Any], None]:
        def ended(dbapi_conn: Any) -> None:
            try:
                end(dbapi_conn)
            finally:
                self.give_back(dbapi_conn)

        return ended


class Session(AsyncSession):
    """An `AsyncSession` that reports each successful commit (`domain.core.outage.committed`): a modal
    submission is acked once its listener's write is committed."""

    async def commit(self) -> None:
        await super().commit()
        committed()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions bound to `engine`; objects stay usable after commit (`expire_on_commit=False`)."""
    return async_sessionmaker(engine, expire_on_commit=False, class_=Session)


async def ping(engine: AsyncEngine, timeout: float = 5.0) -> bool:
    """True when the database answers `SELECT 1` within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("database ping failed: %s", exc)
        return False


_WRITE_GATES: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()
ACK_FIRST_MAX = 1.0  # seconds a transaction about to begin waits for acks' writes at most


@dataclass
class _AckWrites:
    """An SQLite database's acks' writes in flight, in this process and event loop."""

    loop: asyncio.AbstractEventLoop
    count: int = 0
    none: asyncio.Event = field(default_factory=asyncio.Event)


_ACK_WRITES: dict[str, _AckWrites] = {}


@contextlib.asynccontextmanager
async def ack_write(engine: AsyncEngine) -> AsyncIterator[None]:
    """Around the write a submission's ack waits for. On SQLite, transactions of the main engine that have
    not begun yet wait for it (up to ACK_FIRST_MAX): SQLite hands its write lock to whichever waiter polls
    first, so under a burst of set-ups the ack's write could otherwise wait out Slack's 3 s; on Postgres
    nothing."""
    if engine.dialect.name != "sqlite":
        yield
        return
    loop, database = asyncio.get_running_loop(), engine.url.database or ""
    writes = _ACK_WRITES.get(database)
    if writes is None or writes.loop is not loop:
        writes = _ACK_WRITES[database] = _AckWrites(loop)
    writes.count += 1
    writes.none.clear()
    try:
        yield
    finally:
        writes.count -= 1
        if not writes.count:
            writes.none.set()


def _after_acks(database: str) -> None:
    """In a main-engine transaction's begin (inside SQLAlchemy's greenlet): wait while acks' writes are in flight."""
    writes = _ACK_WRITES.get(database)
    if writes is None or not writes.count:
        return
    try:
        if asyncio.get_running_loop() is not writes.loop:
            return
    except RuntimeError:  # no loop here (a synchronous caller): nothing of ours to wait for
        return
    with contextlib.suppress(TimeoutError):
        await_only(asyncio.wait_for(writes.none.wait(), ACK_FIRST_MAX))


def write_gate(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager:
    """What a busy writer holds around its transaction: on SQLite a first-come-first-served lock per
    engine, because SQLite's own lock is taken by polling with growing sleeps, so a steady writer
    (the signal worker) can keep another (ingestion) waiting for a second or more; nothing on Postgres."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    gate = _WRITE_GATES.get(engine.sync_engine)
    if gate is None:
        gate = _WRITE_GATES[engine.sync_engine] = asyncio.Lock()
    return gate
