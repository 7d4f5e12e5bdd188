"""Announcing the bookings book_table writes to the other processes, in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from app.bookings.cache.days import change_payload
from app.bookings.statements import NOTIFY
from app.db.engine import Database

log = logging.getLogger("app.bookings.cache")


class ChangePublisher:
    """Announces the bookings that book_table (migration 0009) writes, in batches.

    PostgreSQL makes every committing transaction that has sent a NOTIFY wait for one
    lock, held until its commit is flushed to disk: a NOTIFY in each booking's own
    transaction made bookings commit one at a time. book_table therefore holds its
    trigger's NOTIFY back, and the process that booked sends one NOTIFY for all the
    bookings of the last FLUSH_SECONDS, in a transaction of its own. Other processes
    hear of a booking that much later; this process's own cache was dropped at commit.
    If the process dies in between, the others keep the day until TTL at the most (it
    can only offer a table that POST /bookings then refuses with 409)."""

    FLUSH_SECONDS = 0.01
    MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes or more

    def __init__(self, send: Callable[[list[str]], Awaitable[None]]) -> None:
        self.send = send  # sends each payload as one NOTIFY on CHANNEL
        self.pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def changed(self, start: datetime, end: datetime) -> None:
        self.pending.append(change_payload(start, end))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(self.FLUSH_SECONDS)
            await self.flush()
        finally:
            self._task = None
            if self.pending:
                self._task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        payloads: list[str] = []
        for item in batch:
            if payloads and len(payloads[-1]) + 1 + len(item) <= self.MAX_PAYLOAD:
                payloads[-1] += ";" + item
            else:
                payloads.append(item)
        if not payloads:
            return
        try:
            await self.send(payloads)
        except Exception:
            log.warning("could not announce %d booking(s); other processes keep their days "
                        "until they expire", len(batch), exc_info=True)  # fmt: skip

    async def close(self) -> None:
        """Send what is waiting (at shutdown)."""
        while self._task is not None:
            await self._task
        await self.flush()


def publisher(database: Database) -> ChangePublisher:
    """PostgreSQL: announces book_table's bookings on a pooled connection, batched."""

    async def send(payloads: list[str]) -> None:
        async with database.connect(write=False) as conn:  # autocommit: one NOTIFY each
            for payload in payloads:
                await conn.fetch(NOTIFY, {"payload": payload})

    return ChangePublisher(send)
