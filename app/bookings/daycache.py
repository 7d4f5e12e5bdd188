"""Availability of the days ahead, kept in memory and dropped the moment they change.

Most availability checks ask about a day well ahead, and the same day is asked about
again and again while its bookings stay put. On PostgreSQL each server process keeps
those days in memory: the bookable tables with every active booking that overlaps the
day. A check of a kept day needs no connection and no query.

Freshness:
- Triggers (migration 0007) NOTIFY on every committed change to bookings (with the
  booking's range), to what a table is, or to the settings. `DayCacheListener` LISTENs
  on its own connection and drops the days concerned, in every process.
- A write committed by this process drops every kept day at once (Database.after_write),
  so a guest who has just booked or cancelled never sees the old state from this process.
- Another process's change is seen once its NOTIFY arrives, normally within a
  millisecond or two; a booking made by book_table is announced by the process that
  made it within ChangePublisher.FLUSH_SECONDS (10 ms) instead of at commit. Nothing
  is kept while the listener is not connected, and a kept day is read again after
  `TTL` whatever happens.
- A day read while a change is on its way could be older than the change: an entry is
  kept only if nothing was dropped between starting to read it and storing it.

The cache only answers questions; it never decides a booking. POST /bookings checks
and inserts under the table's lock in the database, so a stale answer can at worst offer
a table that is then refused with 409 and the alternatives.

Only days starting at least MAX_DURATION from now are kept: a party seated at a table
now can only block slots before that (see availability.occupancy), so a kept day does
not depend on the floor's live state.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from typing import TYPE_CHECKING, Any

from app.background import pause
from app.venue.calendar import MAX_DURATION, Venue

if TYPE_CHECKING:
    from app.bookings.availability import Interval, TableRow

log = logging.getLogger(__name__)

CHANNEL = "availability"
TTL = 300.0  # seconds: a safety net; a change drops a day within milliseconds
MAX_DAYS = 1024
PING_SECONDS = 5.0  # how often the listener proves its connection is alive


@dataclass(frozen=True)
class DaySnapshot:
    """The bookable tables (best fit first) and each one's active bookings overlapping
    [window_start, window_end), which covers every slot of the local day."""

    venue: Venue
    window_start: datetime
    window_end: datetime
    tables: tuple[TableRow, ...]
    busy: dict[int, list[Interval]]
    expires: float


_MARGIN = timedelta(hours=1)
_AHEAD = MAX_DURATION + _MARGIN


def day_window(venue: Venue, day: date) -> tuple[datetime, datetime]:
    """From local midnight to the next, with an hour's margin each side for a
    daylight-saving change (a service ends by midnight)."""
    start = datetime.combine(day, Time(), tzinfo=venue.zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), Time(), tzinfo=venue.zone).astimezone(UTC)
    return start - _MARGIN, end + _MARGIN


class DayCache:
    """Kept days of one database, in one process. Empty and unused until `open()`."""

    def __init__(self, *, max_days: int = MAX_DAYS, ttl: float = TTL) -> None:
        self.max_days = max_days
        self.ttl = ttl
        self.live = False
        self.epoch = 0  # bumped by every drop; see `put`
        self._days: OrderedDict[date, DaySnapshot] = OrderedDict()
        self.hits = 0  # answers given from memory

    def __len__(self) -> int:
        return len(self._days)

    def keeps(self, venue: Venue, day: date, now: datetime) -> bool:
        """Whether `day` is one this cache may answer for at `now`: its window starts
        at least MAX_DURATION ahead (a later local date than that moment plus the
        window's margin is enough)."""
        return self.live and day > venue.local(now + _AHEAD).date()

    def get(self, venue: Venue, day: date) -> DaySnapshot | None:
        entry = self._days.get(day)
        if entry is None or entry.venue is not venue or entry.expires < time.monotonic():
            return None
        self.hits += 1
        return entry

    def put(
        self,
        epoch: int,
        venue: Venue,
        day: date,
        tables: tuple[TableRow, ...],
        busy: dict[int, list[Interval]],
    ) -> None:
        """Keep a day read after `epoch` was taken, unless something was dropped since
        (the read may predate that change)."""
        if not self.live or epoch != self.epoch:
            return
        start, end = day_window(venue, day)
        self._days[day] = DaySnapshot(venue, start, end, tables, busy, time.monotonic() + self.ttl)
        self._days.move_to_end(day)
        while len(self._days) > self.max_days:
            self._days.popitem(last=False)

    def drop(self, starts_at: datetime, ends_at: datetime) -> None:
        """Drop the days whose window overlaps [starts_at, ends_at)."""
        self.epoch += 1
        stale = [
            day
            for day, entry in self._days.items()
            if entry.window_start < ends_at and entry.window_end > starts_at
        ]
        for day in stale:
            del self._days[day]

    def clear(self) -> None:
        self.epoch += 1
        self._days.clear()

    def notified(self, payload: str) -> None:
        """A NOTIFY: "<start epoch> <end epoch>" from the triggers, several of those
        joined by ";" from a ChangePublisher, or "*" (anything may have changed)."""
        try:
            ranges = [tuple(int(part) for part in one.split()) for one in payload.split(";")]
            if any(len(r) != 2 for r in ranges):
                raise ValueError(payload)
        except ValueError:
            self.clear()
            return
        for start, end in ranges:
            self.drop(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))

    def open(self) -> None:
        self.clear()
        self.live = True

    def close(self) -> None:
        self.live = False
        self.clear()


def change_payload(start: datetime, end: datetime) -> str:
    """A booking's range as the triggers write it (whole seconds, widened)."""
    return f"{math.floor(start.timestamp())} {math.ceil(end.timestamp())}"


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
