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
  millisecond or two. Nothing is kept while the listener is not connected, and a kept
  day is read again after `TTL` whatever happens.
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
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from typing import TYPE_CHECKING, Any

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
        """A NOTIFY from the triggers: "<start epoch> <end epoch>" or "*"."""
        try:
            start, end = (int(part) for part in payload.split())
        except ValueError:
            self.clear()
            return
        self.drop(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))

    def open(self) -> None:
        self.clear()
        self.live = True

    def close(self) -> None:
        self.live = False
        self.clear()


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
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.retry_seconds)
                except TimeoutError:
                    pass

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
