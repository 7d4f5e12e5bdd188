"""LISTENing for availability changes, so that kept days are dropped as they change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.background import pause
from app.bookings.cache.days import DayCache
from app.bookings.statements import CHANNEL

log = logging.getLogger("app.bookings.cache")
PING_SECONDS = 5.0  # how often the listener proves its connection is alive


class DayCacheListener:
    """LISTENs for availability changes on a connection of its own and keeps the cache
    live only while that connection is up; reconnects after a loss."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        cache: DayCache,
        *,
        warm: Callable[[], Awaitable[None]] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self.connect = connect  # returns an asyncpg connection of its own
        self.cache = cache
        self.warm = warm  # reads the days ahead once listening (availability.warm)
        self.retry_seconds = retry_seconds
        self.started = asyncio.Event()  # set once the first connection (and warm) is done

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.cache.notified(payload)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception:
                log.warning("availability listener lost; days are not kept until it is back")
            finally:
                self.started.set()  # _listen has closed the cache
            if not stop.is_set():
                await pause(stop, self.retry_seconds)

    async def _listen(self, stop: asyncio.Event) -> None:
        connection = await self.connect()
        lost = asyncio.Event()

        def on_lost(_conn: Any) -> None:
            self.cache.close()  # at once: notifications may be missed from here on
            lost.set()

        try:
            connection.add_termination_listener(on_lost)
            await connection.add_listener(CHANNEL, self._on_notify)
            self.cache.open()
            if self.warm is not None:
                await self.warm()
            self.started.set()
            while not stop.is_set():
                if lost.is_set():
                    raise ConnectionError("listener connection closed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=PING_SECONDS)
                except TimeoutError:
                    # A connection that died silently would miss notifications too.
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), PING_SECONDS)
        finally:
            self.cache.close()
            if not connection.is_closed():
                try:
                    await asyncio.wait_for(connection.close(), timeout=5)
                except Exception:
                    connection.terminate()
