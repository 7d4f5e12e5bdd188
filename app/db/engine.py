"""Creating the engine, and `Database`: one per process, with its session factories and
the hot paths' `connect()`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db.checkout import CheckoutQueue, PooledCheckout
from app.db.statements import Conn, CoreConn, LazyConn


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Let SQLAlchemy own transactions on SQLite so write requests can BEGIN IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 0,
    pool_timeout: float = 10.0,
    autocommit: bool = False,
    wait_for_flush: bool = True,
) -> AsyncEngine:
    """`autocommit=True` (PostgreSQL): connections rest in autocommit, so a ping (see
    _check_on_checkout) is a single round trip instead of BEGIN, ping, ROLLBACK; sessions
    that write ask for READ COMMITTED transactions explicitly (see Database).

    `wait_for_flush=False` (PostgreSQL): commits return before their WAL reaches disk
    (synchronous_commit off). Only for bookkeeping that may be redone after a crash: a
    crash can lose the last fraction of a second of it, never corrupt it.

    Errors never carry their statement's parameters (hide_parameters): a failed insert
    must not put a guest's e-mail or a password hash into the log."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    connect_args = {} if wait_for_flush else {"server_settings": {"synchronous_commit": "off"}}
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
        connect_args=connect_args,
        hide_parameters=True,
    )
    _check_on_checkout(engine)
    return engine


# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _check_on_checkout(engine: AsyncEngine) -> None:
    """PostgreSQL: a pooled connection is checked before use, as pool_pre_ping would,
    but without a round trip for one in steady use: one the server has closed (a
    restart, pg_terminate_backend) is known closed locally as soon as the event loop
    has read the close; one idle for over a second (an idle timeout, a dropped network
    path) is pinged. Either way the pool replaces it. (pgx's pool uses the same rule.)
    A connection that dies unseen while busy fails its request once and is replaced."""

    @event.listens_for(engine.sync_engine, "connect")
    @event.listens_for(engine.sync_engine, "checkin")
    def _rested(_dbapi_connection: Any, record: Any) -> None:
        record.info["rested_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        rested_at = record.info.get("rested_at")
        if rested_at is None or time.monotonic() - rested_at > PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("the pooled connection failed its ping") from exc


@dataclass
class Database:
    """One engine per process, with session factories for reading, writing, and writing
    after slow work.

    - `reader` (GET requests): on PostgreSQL in autocommit (the connections' resting
      state), since a read-only request gains nothing from a transaction at READ
      COMMITTED (each statement takes its own snapshot either way); it saves BEGIN and
      COMMIT, and a checkout ping, when one is due, is one round trip.
    - `writer` (POST, PUT, PATCH, DELETE): one READ COMMITTED transaction; on SQLite it
      starts with BEGIN IMMEDIATE, taking the single writer lock up front, so every
      check-then-write in it is atomic. On PostgreSQL row locks and advisory locks do that.
    - `deferred`: one transaction that takes no lock up front (see get_deferred_session).
    """

    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    deferred: async_sessionmaker[AsyncSession]
    # The engine `writer` sessions use (SQLite: BEGIN IMMEDIATE), for `connect(write=True)`.
    write_engine: AsyncEngine | None = None
    # SQLite has one writer at a time: this process's write requests queue here in order
    # instead of sleeping in SQLite's busy-timeout backoff.
    write_queue: asyncio.Lock | None = None
    # PostgreSQL: connect()'s callers queue here for a connection, first come first served.
    checkouts: CheckoutQueue | None = None
    # Called after each write this process commits through connect() or a request's
    # session (the availability cache drops what it keeps: see app.bookings.cache).
    after_write: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 0,
        pool_timeout: float = 10.0,
        wait_for_flush: bool = True,
    ) -> Database:
        """`wait_for_flush`: see create_engine; the web process always waits."""
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
            autocommit=True, wait_for_flush=wait_for_flush,
        )  # fmt: skip
        sqlite = engine.dialect.name == "sqlite"

        def factory(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
            return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)

        if sqlite:
            transactional = engine
            immediate = engine.execution_options(sqlite_begin_immediate=True)
        else:
            transactional = immediate = engine.execution_options(isolation_level="READ COMMITTED")
        return cls(
            engine=engine,
            reader=factory(engine),
            writer=factory(immediate),
            deferred=factory(transactional),
            write_engine=immediate,
            write_queue=asyncio.Lock() if sqlite else None,
            checkouts=None if sqlite else CheckoutQueue(pool_size + max_overflow, pool_timeout),
        )

    @cached_property
    def cache_key(self) -> str:
        return str(self.engine.url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()

    def wrote(self) -> None:
        for hook in self.after_write:
            hook()

    async def driver_connection(self) -> Any:
        """PostgreSQL: an asyncpg connection of its own, outside the pool (for LISTEN),
        made from the engine's URL and connect arguments."""
        import asyncpg

        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        for key in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            cparams.pop(key, None)
        return await asyncpg.connect(*cargs, **cparams)

    def connect(self, *, write: bool) -> AbstractAsyncContextManager[Conn]:
        """A Conn for the hot paths. Reads run in autocommit; a write runs in one READ
        COMMITTED transaction (SQLite: BEGIN IMMEDIATE, queued in this process), committed
        when the block ends and rolled back if it raises."""
        if self.is_sqlite:
            return self._connect_sqlite(write=write)
        return PooledCheckout(
            self.engine, self.checkouts, cache_key=self.cache_key, write=write,
            after_commit=self.wrote,
        )  # fmt: skip

    def lazy(self) -> LazyConn:
        """A read connection taken only if a statement is run (see LazyConn)."""
        return LazyConn(
            lambda: self.connect(write=False),
            dialect_name=self.engine.dialect.name,
            cache_key=self.cache_key,
        )

    @asynccontextmanager
    async def _connect_sqlite(self, *, write: bool) -> AsyncIterator[Conn]:
        async with AsyncExitStack() as stack:
            if write and self.write_queue is not None:
                await stack.enter_async_context(self.write_queue)
            engine = (self.write_engine or self.engine) if write else self.engine
            connection = await stack.enter_async_context(engine.connect())
            if not write:
                yield CoreConn(connection)
                return
            await connection.begin()
            core = CoreConn(connection)
            try:
                yield core
                await core.commit()
            except BaseException:
                await connection.rollback()
                raise
        self.wrote()
