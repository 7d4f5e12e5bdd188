"""Database engine, declarative base, and the per-request session dependency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, cast

from fastapi import Request
from sqlalchemy import Date, DateTime, Integer, MetaData, bindparam, event, func, literal, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import greenlet_spawn

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC, always returned timezone-aware (SQLite included).

    Naive datetimes are refused on the way in: every instant in this code base is aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    crash can lose the last fraction of a second of it, never corrupt it."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
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


class CheckoutQueue:
    """Database.connect's callers take the pool's connections in the order they asked.

    SQLAlchemy's async pool is first come, first taken: a connection given back goes to
    the first waiter, but only once that waiter runs, and a request that asks in the
    meantime (one whose turn on the event loop came first) takes it; the waiter finds
    the pool empty again and queues anew at the back. Under load, with more requests in
    flight than connections, some requests lost their turn several times: the booking
    bench's p99 was twice its median. Here they first wait in an asyncio.Semaphore of
    the pool's size, which hands each freed place to the longest waiter and lets no
    newcomer pass one, so a request holding a place finds a connection free (unless ORM
    sessions, which do not queue here, hold some).

    A request that waits longer than the pool timeout gets the pool's own TimeoutError
    (503 busy, see app.errors), as one that waited in the pool would."""

    __slots__ = ("_places", "timeout")

    def __init__(self, size: int, timeout: float) -> None:
        self._places = asyncio.Semaphore(size)
        self.timeout = timeout

    async def acquire(self) -> None:
        places = self._places
        if not places.locked():
            await places.acquire()  # a free place and nobody waiting: taken at once
            return
        try:
            async with asyncio.timeout(self.timeout):
                await places.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"No database connection was free within {self.timeout:g} s"
            ) from None

    def release(self) -> None:
        self._places.release()


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
    # session (the availability cache drops what it keeps: see bookings.daycache).
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
        return _Checkout(self, write)

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


class _Checkout:
    """Database.connect on PostgreSQL: the pool's driver connection itself, taken with
    AsyncEngine.raw_connection (checked as it is handed out, see _check_on_checkout) and
    given back with close(). About 20 microseconds of CPU, against 80 through an
    AsyncConnection (three greenlet hops) and @asynccontextmanager: every booking and
    every availability check that reads the database runs this. Callers wait their turn
    in the database's CheckoutQueue first."""

    __slots__ = ("database", "native", "pooled", "write")

    def __init__(self, database: Database, write: bool) -> None:
        self.database = database
        self.write = write

    async def __aenter__(self) -> NativeConn:
        database = self.database
        checkouts = database.checkouts
        if checkouts is not None:
            await checkouts.acquire()
        try:
            self.pooled = await database.engine.raw_connection()
        except BaseException:
            if checkouts is not None:
                checkouts.release()
            raise
        self.native = native = NativeConn(
            self.pooled.driver_connection, database.engine.dialect, database.cache_key
        )
        if self.write:
            try:
                await native.command("BEGIN ISOLATION LEVEL READ COMMITTED")
            except BaseException:
                await self._abandon()
                raise
        return native

    async def __aexit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        if error is not None:
            await self._abandon()
            return
        if self.write:
            try:
                await self.native.commit()
            except BaseException:
                await self._abandon()
                raise
        self._give_back()
        if self.write:
            self.database.wrote()

    def _give_back(self) -> None:
        self.pooled.close()  # back to the pool, without I/O: nothing is open on it
        if self.database.checkouts is not None:
            self.database.checkouts.release()

    async def _abandon(self) -> None:
        """After an error: roll back what the driver connection still has open, or, if it
        is broken or the rollback fails, invalidate it so the pool never hands it out
        again; either way give it back."""
        native = self.native
        try:
            if not native.broken and native.driver.is_in_transaction():
                try:
                    await native.command("ROLLBACK")
                except Exception:
                    native.broken = True
            if native.broken:
                await greenlet_spawn(self.pooled.invalidate)  # closing it may await
        finally:
            self._give_back()


# ---------------------------------------------------------------------------------------
# The hot paths (availability checks and booking creation) run pre-built Core statements
# on a plain pooled connection instead of an ORM session. On PostgreSQL the statement is
# compiled once to asyncpg's SQL and sent on the driver connection that SQLAlchemy's pool
# hands out (checked as it is handed out): no session, no per-call compilation or cache lookup, no
# greenlet hop per statement. On SQLite it runs through SQLAlchemy Core as usual.
# ---------------------------------------------------------------------------------------

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Native:
    sql: str
    names: tuple[str, ...]  # parameter names in positional ($1, $2, ...) order
    processors: tuple[Processor, ...]
    defaults: dict[str, Any]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, converter)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = params[name] if name in params else self.defaults[name]
            out.append(value if process is None else process(value))
        return out

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:
            return tuple(record)
        values = list(record)
        for index, process in self.results:
            values[index] = process(values[index])
        return tuple(values)


class Query:
    """A Core statement built once, run with `Conn.fetch` / `fetchval` / `execute`.

    Its parameters are named bind parameters; IN lists that expand per call are not
    supported (write them as constants or joins). For a plain `insert(table)`, `columns`
    names the columns given, as in an executemany."""

    def __init__(self, statement: Executable, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._native: dict[str, _Native] = {}

    def native(self, dialect: Dialect) -> _Native:
        compiled = self._native.get(dialect.name)
        if compiled is None:
            compiled = self._native[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Native:
        clause = cast(ClauseElement, self.statement)
        compiled = cast(SQLCompiler, clause.compile(dialect=dialect, column_keys=self.columns))
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("Query does not support expanding IN parameters")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults are computed by SQLAlchemy's execution context,
            # which this path skips: the caller must give those columns.
            raise ValueError("Query needs a value for every column with a Python default")
        names = tuple(compiled.positiontup or ())
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        binds = [by_name[name] for name in names]
        columns = getattr(self.statement, "exported_columns", ())
        converters = (column.type.result_processor(dialect, None) for column in columns)
        return _Native(
            sql=compiled.string,
            names=names,
            processors=tuple(bind.type.bind_processor(dialect) for bind in binds),
            defaults={
                name: bind.effective_value
                for name, bind in zip(names, binds, strict=True)
                if not bind.required
            },
            results=tuple((i, convert) for i, convert in enumerate(converters) if convert),
        )


class Conn:
    """A connection for Query objects; one request's, in its transaction if it writes."""

    dialect_name: str

    @property
    def cache_key(self) -> str:
        """Names the database, for per-database caches (the venue's settings)."""
        raise NotImplementedError

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Run a statement that returns nothing, once or (given a list) for each set."""
        raise NotImplementedError

    async def commit(self) -> None:
        """End the write transaction (called by Database.connect)."""
        raise NotImplementedError

    async def fetchrow(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None:
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def fetchval(self, query: Query, params: Mapping[str, Any] | None = None) -> Any:
        row = await self.fetchrow(query, params)
        return None if row is None else row[0]


class CoreConn(Conn):
    """Through SQLAlchemy Core (SQLite, and sessions' connections on any database)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect_name = connection.dialect.name

    @property
    def cache_key(self) -> str:
        return str(self.connection.engine.url)

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        return (await self.connection.execute(query.statement, dict(params or {}))).all()

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        many = [dict(p) for p in params] if isinstance(params, Sequence) else dict(params)
        await self.connection.execute(query.statement, many)

    async def commit(self) -> None:
        await self.connection.commit()


class LazyConn(Conn):
    """A read connection taken from the pool at its first statement (an answer served
    from memory needs none), returned by `release()`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.dialect_name = database.engine.dialect.name
        self._stack: AsyncExitStack | None = None
        self._conn: Conn | None = None

    @property
    def cache_key(self) -> str:
        return self.database.cache_key

    async def _connection(self) -> Conn:
        if self._conn is None:
            stack = AsyncExitStack()
            self._conn = await stack.enter_async_context(self.database.connect(write=False))
            self._stack = stack
        return self._conn

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        return await (await self._connection()).fetch(query, params)

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        await (await self._connection()).execute(query, params)

    async def release(self, error: BaseException | None = None) -> None:
        """Return the connection; given the request's error, Database.connect sees it."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is None:
            return
        if error is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(error), error, error.__traceback__)


def _driver_error(exc: Exception, sql: str) -> DBAPIError:
    """asyncpg's exception as the SQLAlchemy error the app's handlers know (orig kept)."""
    import asyncpg

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, exc)
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | OSError):
        return OperationalError(sql, None, exc, connection_invalidated=True)
    return DBAPIError(sql, None, exc)


class NativeConn(Conn):
    """PostgreSQL: statements go straight to the asyncpg connection."""

    dialect_name = "postgresql"

    def __init__(self, driver: Any, dialect: Dialect, cache_key: str) -> None:
        self.driver = driver
        self.dialect = dialect
        self._cache_key = cache_key
        self.broken = False

    @property
    def cache_key(self) -> str:
        return self._cache_key

    async def _run(self, call: Any, sql: str, *args: Any) -> Any:
        import asyncpg

        try:
            return await call(sql, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            error = _driver_error(exc, sql)
            self.broken = self.broken or error.connection_invalidated
            raise error from exc

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        native = query.native(self.dialect)
        records = await self._run(self.driver.fetch, native.sql, *native.args(params or {}))
        return [native.row(record) for record in records]

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        native = query.native(self.dialect)
        if isinstance(params, Sequence):
            await self._run(self.driver.executemany, native.sql, [native.args(p) for p in params])
        else:
            await self._run(self.driver.execute, native.sql, *native.args(params))

    async def command(self, sql: str) -> None:
        await self._run(self.driver.execute, sql)

    async def commit(self) -> None:
        await self.command("COMMIT")


async def get_deferred_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Like get_session, but no write lock up front, whatever the method: for writes that
    first do slow work outside the database (hashing a password) and then insert. On SQLite
    the write lock is taken by the first write; the route must not read, then write, in one
    transaction where another writer could come between (end the read with a commit)."""
    database: Database = request.app.state.db
    async with database.deferred() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    database.wrote()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit when the route returns, roll back on error.

    Declared with scope="function" (see deps.SessionDep) so the commit finishes before
    the response is sent: a client told 201 will find what it created.
    """
    database: Database = request.app.state.db
    writing = request.method in WRITE_METHODS
    queue = database.write_queue if writing else None
    async with AsyncExitStack() as stack:
        if queue is not None:
            await stack.enter_async_context(queue)
        session = await stack.enter_async_context(
            (database.writer if writing else database.reader)()
        )
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    if writing:
        database.wrote()


async def as_conn(target: AsyncSession | Conn) -> Conn:
    """A Conn on a session's connection (in its transaction), for shared Query code."""
    if isinstance(target, Conn):
        return target
    return CoreConn(await target.connection())


class LockSpace:
    """First key of PostgreSQL's two-key advisory locks: one number per kind of thing."""

    TABLE = 1001  # a table's floor state (seating, merging)
    IDEMPOTENCY = 1002
    TABLE_DAY = 1003  # a table's bookings on one local date


_ADVISORY_LOCK = Query(
    select(
        func.pg_advisory_xact_lock(
            bindparam("space", type_=Integer()), bindparam("key", type_=Integer())
        )
    )
)


async def advisory_xact_lock(target: AsyncSession | Conn, space: int, key: int) -> None:
    """Hold a transaction-scoped advisory lock on PostgreSQL (released at commit/rollback).

    On SQLite this is a no-op: write requests already hold the database's single write
    lock from their first statement (BEGIN IMMEDIATE).
    """
    conn = await as_conn(target)
    if conn.dialect_name != "postgresql":
        return
    key = (key & 0xFFFFFFFF) - (1 << 32 if key & 0x80000000 else 0)  # fit int4
    await conn.fetch(_ADVISORY_LOCK, {"space": space, "key": key})


_TABLE_DAY_LOCK = Query(
    select(
        func.pg_advisory_xact_lock(
            literal(LockSpace.TABLE_DAY, Integer()),
            func.booking_lock_key(
                bindparam("table_id", type_=Integer()), bindparam("day", type_=Date())
            ),
        )
    )
)


async def table_day_lock(target: AsyncSession | Conn, table_id: int, day: date) -> None:
    """Serialise everything that books one table on one local date.

    A booking ends by its service's closing time, so two bookings can only overlap when
    they start on the same local date: bookings of one table on different days, or of
    different tables, never wait for each other. The key comes from the database's
    booking_lock_key (migration 0009), which its book_table function uses too. (Two
    (table, day) pairs sharing a key only wait for each other; nothing goes wrong.)
    On SQLite, as advisory_xact_lock, a no-op.
    """
    conn = await as_conn(target)
    if conn.dialect_name == "postgresql":
        await conn.fetch(_TABLE_DAY_LOCK, {"table_id": table_id, "day": day})
