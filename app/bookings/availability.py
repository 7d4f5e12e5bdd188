"""Which tables are free when: the read side of the booking engine.

Every overlap query is bounded on both sides of `starts_at` (a booking lasts at most
`MAX_DURATION`), so it walks a few index entries per table however long the history is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, String, bindparam, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from app.db import UTCDateTime
from app.floor.models import RestaurantTable, TableState
from app.orders.models import Order
from app.venue.calendar import MAX_DURATION, Slot, Venue

Interval = tuple[datetime, datetime]
MAX_ALTERNATIVES_EACH_SIDE = 3


# The hot statements are built once, with bound parameters: per request only the values
# change, so SQLAlchemy neither rebuilds the expression nor recomputes its cache key.
_START = bindparam("start", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_EARLIEST = bindparam("earliest", type_=UTCDateTime())  # start - MAX_DURATION


def _window(starts_at: datetime, ends_at: datetime) -> dict[str, datetime]:
    return {"start": starts_at, "end": ends_at, "earliest": starts_at - MAX_DURATION}


def _overlapping(table_id: Any) -> ColumnElement[bool]:
    """An active booking of `table_id` overlaps [start, end), looked up as a bounded
    range of `starts_at` (a booking lasts at most MAX_DURATION)."""
    return (
        (Booking.table_id == table_id)
        & Booking.status.in_(ACTIVE_STATUSES)
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

    @classmethod
    def of(cls, table: RestaurantTable) -> TableRow:
        return cls(*(getattr(table, name) for name in cls._fields))


_COLUMNS = tuple(getattr(RestaurantTable, name) for name in TableRow._fields)
_BEST_FIT = (RestaurantTable.capacity, RestaurantTable.table_number)
_FITS = (RestaurantTable.bookable.is_(True), RestaurantTable.capacity >= bindparam("party"))
_FITTING = select(*_COLUMNS).where(*_FITS).order_by(*_BEST_FIT)
_FREE = (
    select(*_COLUMNS)
    .where(*_FITS, ~exists().where(_overlapping(RestaurantTable.id)))
    .order_by(*_BEST_FIT)
)
_ONE = select(*_COLUMNS).where(RestaurantTable.id == bindparam("table_id"))
# Insert a confirmed booking only if nothing overlaps it: check and write in one statement
# (under the table-and-day lock), so the check cannot go stale before the insert.
_BOOKINGS = Booking.metadata.tables["bookings"]
_INSERT_IF_FREE = (
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
    session: AsyncSession,
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
    return await (await session.connection()).scalar(_INSERT_IF_FREE, params)


_BUSY = select(Booking.table_id, Booking.starts_at, Booking.ends_at).where(
    Booking.table_id.in_(bindparam("ids", expanding=True)),
    Booking.status.in_(ACTIVE_STATUSES),
    Booking.starts_at < _END,
    Booking.starts_at > _EARLIEST,
    Booking.ends_at > _START,
)


async def _tables(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[TableRow]:
    # Core statements run on the session's connection: no ORM bookkeeping on the hot path.
    rows = await (await session.connection()).execute(statement, params)
    return [TableRow(*row) for row in rows]


async def table_row(session: AsyncSession, table_id: int) -> TableRow | None:
    rows = await _tables(session, _ONE, {"table_id": table_id})
    return rows[0] if rows else None


async def fitting_tables(session: AsyncSession, party_size: int) -> list[TableRow]:
    """Bookable tables that seat the party, best fit first."""
    return await _tables(session, _FITTING, {"party": party_size})


async def free_tables_at(
    session: AsyncSession, party_size: int, starts_at: datetime, ends_at: datetime
) -> list[TableRow]:
    """Bookable tables that seat the party with no booking overlapping, best fit first."""
    return await _tables(session, _FREE, {"party": party_size, **_window(starts_at, ends_at)})


async def busy_intervals(
    session: AsyncSession, table_ids: Iterable[int], window_start: datetime, window_end: datetime
) -> dict[int, list[Interval]]:
    ids = list(table_ids)
    busy: dict[int, list[Interval]] = defaultdict(list)
    if not ids:
        return busy
    rows = await (await session.connection()).execute(
        _BUSY, {"ids": ids, **_window(window_start, window_end)}
    )
    for table_id, starts_at, ends_at in rows:
        busy[table_id].append((starts_at, ends_at))
    return busy


async def occupancy(
    session: AsyncSession, tables: Sequence[TableRow], venue: Venue, now: datetime
) -> dict[int, Interval]:
    """Tables with a party at them now are busy from when it sat down until its expected
    end (the dining time for its size), and at least until a minute from now."""
    occupied = {
        t.current_order_id: t
        for t in tables
        if t.state == TableState.occupied and t.current_order_id is not None
    }
    if not occupied:
        return {}
    rows = await session.execute(
        select(Order.id, Order.customer_count).where(Order.id.in_(list(occupied)))
    )
    counts = {order_id: count for order_id, count in rows}
    out: dict[int, Interval] = {}
    for order_id, table in occupied.items():
        since = table.occupied_since or now
        expected_end = since + venue.duration_for(counts.get(order_id, table.capacity))
        out[table.id] = (min(since, now), max(expected_end, now + timedelta(minutes=1)))
    return out


def blocks(interval: Interval | None, starts_at: datetime, ends_at: datetime) -> bool:
    return interval is not None and interval[0] < ends_at and interval[1] > starts_at


def _free(intervals: list[Interval], slot: Slot) -> bool:
    return all(not (s < slot.ends_at and e > slot.starts_at) for s, e in intervals)


class DayPlan:
    """The fitting tables and their bookings for one day, to answer many slots at once."""

    def __init__(
        self, slots: list[Slot], tables: Sequence[TableRow], busy: dict[int, list[Interval]]
    ) -> None:
        self.slots = slots
        self.tables = tables
        self.busy = busy

    def free_at(self, slot: Slot) -> list[TableRow]:
        return [t for t in self.tables if _free(self.busy.get(t.id, []), slot)]

    def any_free(self, slot: Slot) -> bool:
        return any(_free(self.busy.get(t.id, []), slot) for t in self.tables)

    def alternatives(self, around: datetime, bookable_from: datetime) -> list[str]:
        """The nearest free slot times: up to three before and three after `around`, in
        time order. Walks outwards from `around` and stops once it has them."""
        earlier = (s for s in reversed(self.slots) if bookable_from <= s.starts_at < around)
        later = (s for s in self.slots if s.starts_at > around and s.starts_at >= bookable_from)
        before = list(islice((s for s in earlier if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        after = list(islice((s for s in later if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        return [s.label for s in reversed(before)] + [s.label for s in after]


async def day_plan(
    session: AsyncSession, venue: Venue, day: date, party_size: int, now: datetime
) -> DayPlan:
    slots = venue.slots(day, party_size)
    tables = await fitting_tables(session, party_size)
    if not slots or not tables:
        return DayPlan(slots, tables, {})
    busy = await busy_intervals(
        session, [t.id for t in tables], slots[0].starts_at, slots[-1].ends_at
    )
    for table_id, interval in (await occupancy(session, tables, venue, now)).items():
        busy[table_id].append(interval)
    return DayPlan(slots, tables, busy)
