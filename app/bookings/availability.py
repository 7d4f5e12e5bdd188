"""Which tables are free when: the read side of the booking engine.

Every overlap query is bounded on both sides of `starts_at` (a booking lasts at most
`MAX_DURATION`), so it walks a few index entries per table however long the history is.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
)

from app.bookings.daycache import CHANNEL, ChangePublisher, DayCache, day_window
from app.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from app.db import Conn, Database, Query, UTCDateTime
from app.floor.models import RestaurantTable, TableState
from app.orders.models import Order
from app.venue import service as venue_service
from app.venue.calendar import MAX_DURATION, Slot, Venue

Interval = tuple[datetime, datetime]
MAX_ALTERNATIVES_EACH_SIDE = 3


# The hot statements are built once, with bound parameters (app.db.Query): per request
# only the values change.
_START = bindparam("start", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_EARLIEST = bindparam("earliest", type_=UTCDateTime())  # start - MAX_DURATION
# The active statuses as constants in the SQL (a per-call IN list would be re-rendered).
_ACTIVE = Booking.status.in_([literal_column(f"'{status.value}'") for status in ACTIVE_STATUSES])


def _window(starts_at: datetime, ends_at: datetime) -> dict[str, datetime]:
    return {"start": starts_at, "end": ends_at, "earliest": starts_at - MAX_DURATION}


def _overlapping(table_id: Any) -> ColumnElement[bool]:
    """An active booking of `table_id` overlaps [start, end), looked up as a bounded
    range of `starts_at` (a booking lasts at most MAX_DURATION)."""
    return (
        (Booking.table_id == table_id)
        & _ACTIVE
        & (Booking.starts_at < _END)
        & (Booking.starts_at > _EARLIEST)
        & (Booking.ends_at > _START)
    )


class TableRow(NamedTuple):
    """What the booking engine needs of a table, read without the ORM's bookkeeping."""

    id: int
    table_number: int
    capacity: int
    area: str
    bookable: bool
    state: TableState
    current_order_id: int | None
    occupied_since: datetime | None
    seated_guests: int | None  # the party at the table now (its order's customer count)


_TABLE_FIELDS = TableRow._fields[:-1]
_COLUMNS = (*(getattr(RestaurantTable, name) for name in _TABLE_FIELDS), Order.customer_count)
# A seated party's order, for how long it will stay (see occupancy).
_TABLES = RestaurantTable.__table__.outerjoin(
    Order.__table__, Order.id == RestaurantTable.current_order_id
)
_BEST_FIT = (RestaurantTable.capacity, RestaurantTable.table_number)
_FITS = (RestaurantTable.bookable.is_(True), RestaurantTable.capacity >= bindparam("party"))
_FREE = Query(
    select(*_COLUMNS)
    .select_from(_TABLES)
    .where(*_FITS, ~exists().where(_overlapping(RestaurantTable.id)))
    .order_by(*_BEST_FIT)
)
_ONE = Query(
    select(*_COLUMNS).select_from(_TABLES).where(RestaurantTable.id == bindparam("table_id"))
)
# Every fitting table with each booking overlapping the window (or none): a day's plan in
# one statement.
_DAY = Query(
    select(*_COLUMNS, Booking.starts_at, Booking.ends_at)
    .select_from(_TABLES.outerjoin(Booking.__table__, _overlapping(RestaurantTable.id)))
    .where(*_FITS)
    .order_by(*_BEST_FIT, Booking.starts_at)
)
# Insert a confirmed booking only if nothing overlaps it: check and write in one statement
# (under the table-and-day lock), so the check cannot go stale before the insert.
_BOOKINGS = Booking.metadata.tables["bookings"]
_INSERT_IF_FREE = Query(
    insert(_BOOKINGS)
    .from_select(
        ["user_id", "table_id", "party_size", "starts_at", "ends_at", "status",
         "special_requests", "created_at", "updated_at"],
        select(
            bindparam("user_id", type_=Integer()),
            bindparam("table_id", type_=Integer()),
            bindparam("party_size", type_=Integer()),
            _START,
            _END,
            bindparam("status", type_=String()),
            bindparam("special_requests", type_=String()),
            bindparam("now", type_=UTCDateTime()),
            bindparam("now", type_=UTCDateTime()),
        ).where(~exists().where(_overlapping(bindparam("table_id", type_=Integer())))),
    )
    .returning(_BOOKINGS.c.id)
)  # fmt: skip


async def insert_if_free(
    conn: Conn,
    *,
    user_id: int,
    table_id: int,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
    special_requests: str | None,
    now: datetime,
) -> int | None:
    """The new booking's id, or None if an active booking of the table overlaps."""
    params: dict[str, Any] = {
        "user_id": user_id, "table_id": table_id, "party_size": party_size,
        "status": BookingStatus.confirmed.value, "special_requests": special_requests, "now": now,
        **_window(starts_at, ends_at),
    }  # fmt: skip
    found = await conn.fetchval(_INSERT_IF_FREE, params)
    return None if found is None else int(found)


async def table_row(conn: Conn, table_id: int) -> TableRow | None:
    row = await conn.fetchrow(_ONE, {"table_id": table_id})
    return None if row is None else TableRow(*row)


async def free_tables_at(
    conn: Conn, party_size: int, starts_at: datetime, ends_at: datetime
) -> list[TableRow]:
    """Bookable tables that seat the party with no booking overlapping, best fit first."""
    rows = await conn.fetch(_FREE, {"party": party_size, **_window(starts_at, ends_at)})
    return [TableRow(*row) for row in rows]


def occupancy(tables: Sequence[TableRow], venue: Venue, now: datetime) -> dict[int, Interval]:
    """Tables with a party at them now are busy from when it sat down until its expected
    end (the dining time for its size), and at least until a minute from now."""
    out: dict[int, Interval] = {}
    for table in tables:
        if table.state != TableState.occupied or table.current_order_id is None:
            continue
        since = table.occupied_since or now
        guests = table.seated_guests if table.seated_guests is not None else table.capacity
        expected_end = since + venue.duration_for(guests)
        out[table.id] = (min(since, now), max(expected_end, now + timedelta(minutes=1)))
    return out


def blocks(interval: Interval | None, starts_at: datetime, ends_at: datetime) -> bool:
    return interval is not None and interval[0] < ends_at and interval[1] > starts_at


def _free(intervals: Sequence[Interval], slot: Slot) -> bool:
    starts_at, ends_at = slot.starts_at, slot.ends_at
    for busy_from, busy_until in intervals:  # a plain loop: this runs for every slot
        if busy_from < ends_at and busy_until > starts_at:
            return False
    return True


class DayPlan:
    """The fitting tables and their bookings for one day, to answer many slots at once."""

    def __init__(
        self, slots: list[Slot], tables: Sequence[TableRow], busy: dict[int, list[Interval]]
    ) -> None:
        self.slots = slots
        self.tables = tables
        self.busy = busy

    def free_at(self, slot: Slot) -> list[TableRow]:
        return [t for t in self.tables if _free(self.busy.get(t.id, ()), slot)]

    def any_free(self, slot: Slot) -> bool:
        busy = self.busy
        for table in self.tables:
            if _free(busy.get(table.id, ()), slot):
                return True
        return False

    def alternatives(self, around: datetime, bookable_from: datetime) -> list[str]:
        """The nearest free slot times: up to three before and three after `around`, in
        time order. Walks outwards from `around` and stops once it has them."""
        earlier = (s for s in reversed(self.slots) if bookable_from <= s.starts_at < around)
        later = (s for s in self.slots if s.starts_at > around and s.starts_at >= bookable_from)
        before = list(islice((s for s in earlier if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        after = list(islice((s for s in later if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        return [s.label for s in reversed(before)] + [s.label for s in after]


async def _read_day(
    conn: Conn, party_size: int, starts_at: datetime, ends_at: datetime
) -> tuple[list[TableRow], dict[int, list[Interval]]]:
    """The fitting tables, best fit first, and their bookings overlapping the window."""
    rows = await conn.fetch(_DAY, {"party": party_size, **_window(starts_at, ends_at)})
    tables: dict[int, TableRow] = {}
    busy: dict[int, list[Interval]] = defaultdict(list)
    width = len(TableRow._fields)
    for row in rows:
        table = tables.get(row[0])
        if table is None:
            table = tables[row[0]] = TableRow(*row[:width])
        starts, ends = row[width], row[width + 1]
        if starts is not None:
            busy[table.id].append((starts, ends))
    return list(tables.values()), busy


Day = tuple[tuple[TableRow, ...], dict[int, list[Interval]]]


async def read_days(conn: Conn, venue: Venue, days: Sequence[date]) -> dict[date, Day]:
    """For each day: every bookable table, best fit first, and each one's bookings
    overlapping the day's window (daycache.day_window). One statement for all of them."""
    windows = {day: day_window(venue, day) for day in days}
    start = min(w[0] for w in windows.values())
    end = max(w[1] for w in windows.values())
    found, busy = await _read_day(conn, 1, start, end)
    every = tuple(found)
    out: dict[date, Day] = {}
    for day, (lo, hi) in windows.items():
        on_day: dict[int, list[Interval]] = {}
        for table_id, intervals in busy.items():
            overlapping = [i for i in intervals if i[0] < hi and i[1] > lo]
            if overlapping:
                on_day[table_id] = overlapping
        out[day] = (every, on_day)
    return out


async def kept_day_plan(
    conn: Conn, venue: Venue, day: date, party_size: int, days: DayCache
) -> DayPlan:
    """The plan of a day the cache keeps (`days.keeps` is true): from memory, or read
    once for every party size and kept. No occupancy: a party seated now cannot reach a
    day this far ahead."""
    slots = venue.slots(day, party_size)
    kept = days.get(venue, day)
    if kept is None:
        epoch = days.epoch
        every, busy = (await read_days(conn, venue, [day]))[day]
        days.put(epoch, venue, day, every, busy)
    else:
        every, busy = kept.tables, kept.busy
    return DayPlan(slots, [t for t in every if t.capacity >= party_size], busy)


async def day_plan(
    conn: Conn,
    venue: Venue,
    day: date,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
) -> DayPlan:
    """Given `days` (the availability cache), a day far enough ahead is answered from
    memory (kept_day_plan)."""
    if days is not None and days.keeps(venue, day, now):
        return await kept_day_plan(conn, venue, day, party_size, days)
    slots = venue.slots(day, party_size)
    if not slots:
        return DayPlan(slots, [], {})
    tables, busy = await _read_day(conn, party_size, slots[0].starts_at, slots[-1].ends_at)
    for table_id, interval in occupancy(tables, venue, now).items():
        busy[table_id].append(interval)
    return DayPlan(slots, tables, busy)


WARM_CHUNK_DAYS = 31


async def warm(database: Database, days: DayCache, now: Callable[[], datetime]) -> None:
    """Read every day the cache may keep, up to the booking horizon, a month per
    statement, so that checks find them in memory from the start."""
    async with database.connect(write=False) as conn:
        venue = await venue_service.get_venue(conn)
    today = venue.today(now())
    ahead = [today + timedelta(days=n) for n in range(venue.horizon_days + 1)]
    ahead = [day for day in ahead if days.keeps(venue, day, now()) and venue.services_on(day)]
    for first in range(0, len(ahead), WARM_CHUNK_DAYS):
        if not days.live:
            return
        chunk = ahead[first : first + WARM_CHUNK_DAYS]
        epoch = days.epoch
        async with database.connect(write=False) as conn:
            read = await read_days(conn, venue, chunk)
        for day, (every, busy) in read.items():
            days.put(epoch, venue, day, every, busy)
            for party_size in range(1, venue.max_party_size + 1):
                venue.slots(day, party_size)  # lay out the day's grids now, too
        await asyncio.sleep(0)  # let requests through between chunks


_NOTIFY = Query(
    select(func.pg_notify(literal(CHANNEL, String()), bindparam("payload", type_=String())))
)


def publisher(database: Database) -> ChangePublisher:
    """PostgreSQL: announces book_table's bookings on a pooled connection, batched."""

    async def send(payloads: list[str]) -> None:
        async with database.connect(write=False) as conn:  # autocommit: one NOTIFY each
            for payload in payloads:
                await conn.fetch(_NOTIFY, {"payload": payload})

    return ChangePublisher(send)
