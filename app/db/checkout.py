"""PostgreSQL: the hot paths' connections, taken from the pool in the order asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import greenlet_spawn

from app.db.statements import NativeConn


class CheckoutQueue:
    """Database.connect's callers take the pool's connections in the order they asked.

    SQLAlchemy's async pool is first come, first taken: a connection given back goes to
    the first waiter, but only once that waiter runs, and a request that asks in the
    meantime (one whose turn on the event loop came first) takes it; the waiter finds
    the pool empty again and queues anew at the back. Under load, with more requests in
    flight than connections, some requests lose their turn several times, which sets
    the tail latency. Here they first wait in an asyncio.Semaphore of
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


class PooledCheckout:
    """Database.connect on PostgreSQL: the pool's driver connection itself, taken with
    AsyncEngine.raw_connection (checked as it is handed out, see app.db.engine) and given
    back with close(). Much cheaper than an AsyncConnection (three greenlet hops) inside
    @asynccontextmanager, and every booking and every availability check that reads the
    database runs it (docs/architecture.md). Callers wait their turn in the CheckoutQueue
    first.
    `after_commit` runs once a write has committed (Database.wrote)."""

    __slots__ = ("after_commit", "cache_key", "checkouts", "engine", "native", "pooled",
                 "write")  # fmt: skip

    def __init__(
        self,
        engine: AsyncEngine,
        checkouts: CheckoutQueue | None,
        *,
        cache_key: str,
        write: bool,
        after_commit: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.checkouts = checkouts
        self.cache_key = cache_key
        self.write = write
        self.after_commit = after_commit

    async def __aenter__(self) -> NativeConn:
        checkouts = self.checkouts
        if checkouts is not None:
            await checkouts.acquire()
        try:
            self.pooled = await self.engine.raw_connection()
        except BaseException:
            if checkouts is not None:
                checkouts.release()
            raise
        self.native = native = NativeConn(
            self.pooled.driver_connection, self.engine.dialect, self.cache_key
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
            self.after_commit()

    def _give_back(self) -> None:
        self.pooled.close()  # back to the pool, without I/O: nothing is open on it
        if self.checkouts is not None:
            self.checkouts.release()

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
