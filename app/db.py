"""Database engine, declarative base, and the per-request session dependency."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

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
        if value is None:
            return None
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
    url: str, *, pool_size: int = 10, max_overflow: int = 10, autocommit: bool = False
) -> AsyncEngine:
    """`autocommit=True` (PostgreSQL): connections rest in autocommit, so the pool's
    pre-ping is a single round trip instead of BEGIN, ping, ROLLBACK; sessions that write
    ask for READ COMMITTED transactions explicitly (see Database)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
    )


@dataclass
class Database:
    """One engine per process, with session factories for reading, writing, and writing
    after slow work.

    - `reader` (GET requests): on PostgreSQL in autocommit (the connections' resting
      state), since a read-only request gains nothing from a transaction at READ
      COMMITTED (each statement takes its own snapshot either way); it saves BEGIN and
      COMMIT, and the pool's pre-ping is one round trip.
    - `writer` (POST, PUT, PATCH, DELETE): one READ COMMITTED transaction; on SQLite it
      starts with BEGIN IMMEDIATE, taking the single writer lock up front, so every
      check-then-write in it is atomic. On PostgreSQL row locks and advisory locks do that.
    - `deferred`: one transaction that takes no lock up front (see get_deferred_session).
    """

    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    deferred: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time: this process's write requests queue here in order
    # instead of sleeping in SQLite's busy-timeout backoff.
    write_queue: asyncio.Lock | None = None

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> Database:
        engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, autocommit=True)
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
            write_queue=asyncio.Lock() if sqlite else None,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()


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


class LockSpace:
    """First key of PostgreSQL's two-key advisory locks: one number per kind of thing."""

    TABLE = 1001  # a table's floor state (seating, merging)
    IDEMPOTENCY = 1002
    TABLE_DAY = 1003  # a table's bookings on one local date


async def advisory_xact_lock(session: AsyncSession, space: int, key: int) -> None:
    """Hold a transaction-scoped advisory lock on PostgreSQL (released at commit/rollback).

    On SQLite this is a no-op: write requests already hold the database's single write
    lock from their first statement (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = (key & 0xFFFFFFFF) - (1 << 32 if key & 0x80000000 else 0)  # fit int4
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key}
    )


async def table_day_lock(session: AsyncSession, table_id: int, day: date) -> None:
    """Serialise everything that books one table on one local date.

    A booking ends by its service's closing time, so two bookings can only overlap when
    they start on the same local date: bookings of one table on different days, or of
    different tables, never wait for each other. (Two (table, day) pairs sharing a hash
    only wait for each other; nothing goes wrong.)
    """
    await advisory_xact_lock(session, LockSpace.TABLE_DAY, zlib.crc32(f"{table_id}:{day}".encode()))
