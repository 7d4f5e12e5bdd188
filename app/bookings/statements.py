"""The booking engine's pre-built statements (app.db.statements.Query), and what they
return. Built once at import, with bound parameters: per request only the values change.

Every overlap query is bounded on both sides of `starts_at` (a booking lasts at most
`MAX_DURATION`), so it walks a few index entries per table however long the history is.
On PostgreSQL, `BOOK_TABLE` calls the database function book_table (its readable source
is app/bookings/sql/book_table.sql), which checks, picks, locks and inserts in one
round trip.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)

from app.auth.models import User
from app.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, IdempotencyKey
from app.db.base import UTCDateTime
from app.db.statements import Conn, Query
from app.floor.models import RestaurantTable, TableChannel, TableState
from app.orders.models import Order
from app.venue.calendar import MAX_DURATION, Slot

Interval = tuple[datetime, datetime]
# The channel the availability triggers (migration 0007) and ChangePublisher NOTIFY on.
CHANNEL = "availability"

_START = bindparam("start", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_EARLIEST = bindparam("earliest", type_=UTCDateTime())  # start - MAX_DURATION
_NOW = bindparam("now", type_=UTCDateTime())
# The active statuses as constants in the SQL (a per-call IN list would be re-rendered).
ACTIVE = Booking.status.in_([literal_column(f"'{status.value}'") for status in ACTIVE_STATUSES])
_HELD: ColumnElement[str] = literal_column(f"'{BookingStatus.held.value}'")


def claiming(table: Any = Booking, now: Any = _NOW) -> ColumnElement[bool]:
    """The row keeps its table: an active booking, or a hold not yet over at `now`."""
    active = table.status.in_([literal_column(f"'{s.value}'") for s in ACTIVE_STATUSES])
    return active | ((table.status == _HELD) & (table.hold_expires_at > now))


_CLAIMING = claiming()


def _window(starts_at: datetime, ends_at: datetime, now: datetime) -> dict[str, datetime]:
    return {"start": starts_at, "end": ends_at, "earliest": starts_at - MAX_DURATION, "now": now}


def _overlapping(table_id: Any) -> ColumnElement[bool]:
    """An active booking or live hold of `table_id` overlaps [start, end), looked up as
    a bounded range of `starts_at` (a booking lasts at most MAX_DURATION)."""
    return (
        (Booking.table_id == table_id)
        & _CLAIMING
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
    channel: TableChannel  # who may book it: app.bookings.availability.may_book
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
# A walk_in table is never booked ahead; which of the others a booker may use (online
# for guests, in_house too for staff) is filtered in Python (availability.may_book), so
# that the cache keeps one set of tables for both.
_FITS = (
    RestaurantTable.bookable.is_(True),
    RestaurantTable.capacity >= bindparam("party"),
    RestaurantTable.channel != literal_column(f"'{TableChannel.walk_in.value}'"),
)
FREE_TABLES = Query(
    select(*_COLUMNS)
    .select_from(_TABLES)
    .where(*_FITS, ~exists().where(_overlapping(RestaurantTable.id)))
    .order_by(*_BEST_FIT)
)
ONE_TABLE = Query(
    select(*_COLUMNS).select_from(_TABLES).where(RestaurantTable.id == bindparam("table_id"))
)
# Every fitting table with each booking overlapping the window (or none): a day's plan in
# one statement.
DAY_TABLES = Query(
    select(*_COLUMNS, Booking.starts_at, Booking.ends_at, Booking.hold_expires_at)
    .select_from(_TABLES.outerjoin(Booking.__table__, _overlapping(RestaurantTable.id)))
    .where(*_FITS)
    .order_by(*_BEST_FIT, Booking.starts_at)
)
# Insert a confirmed booking only if nothing overlaps it: check and write in one statement
# (under the table-and-day lock), so the check cannot go stale before the insert.
_BOOKINGS = Booking.metadata.tables["bookings"]
INSERT_IF_FREE = Query(
    insert(_BOOKINGS)
    .from_select(
        ["user_id", "guest_id", "source", "table_id", "party_size", "starts_at", "ends_at",
         "status", "hold_expires_at", "special_requests", "created_at", "updated_at",
         "pacing_override_reason"],
        select(
            bindparam("user_id", type_=Integer()),
            bindparam("guest_id", type_=Integer()),
            bindparam("source", type_=String()),
            bindparam("table_id", type_=Integer()),
            bindparam("party_size", type_=Integer()),
            _START,
            _END,
            bindparam("status", type_=String()),
            bindparam("hold_expires_at", type_=UTCDateTime()),
            bindparam("special_requests", type_=String()),
            _NOW,
            _NOW,
            bindparam("pacing_override_reason", type_=String()),
        ).where(~exists().where(_overlapping(bindparam("table_id", type_=Integer())))),
    )
    .returning(_BOOKINGS.c.id)
)  # fmt: skip
# Move a confirmed booking (new table, time, party or requests) only if no other active
# booking of the new table overlaps its new range: the change's check and write in one
# statement, under the new table's table-and-day lock, as INSERT_IF_FREE for a new one.
# The booking itself is left out of the check ("other" is the same table, aliased).
_OTHER = _BOOKINGS.alias("other")
_MOVE_TABLE = bindparam("new_table", type_=Integer())
MOVE_IF_FREE = Query(
    update(_BOOKINGS)
    .where(
        _BOOKINGS.c.id == bindparam("booking_id", type_=Integer()),
        _BOOKINGS.c.status == literal_column(f"'{BookingStatus.confirmed.value}'"),
        ~exists().where(
            (_OTHER.c.table_id == _MOVE_TABLE)
            & (_OTHER.c.id != bindparam("booking_id", type_=Integer()))
            & claiming(_OTHER.c)
            & (_OTHER.c.starts_at < _END)
            & (_OTHER.c.starts_at > _EARLIEST)
            & (_OTHER.c.ends_at > _START)
        ),
    )
    .values(
        table_id=_MOVE_TABLE,
        party_size=bindparam("new_party", type_=Integer()),
        starts_at=_START,
        ends_at=_END,
        special_requests=bindparam("new_requests", type_=String()),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(_BOOKINGS.c.id)
)


async def move_if_free(
    conn: Conn,
    *,
    booking_id: int,
    table_id: int,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
    special_requests: str | None,
    now: datetime,
) -> bool:
    """Whether the confirmed booking now has these values (False: another active booking
    of the table overlaps the range, and nothing was written)."""
    params: dict[str, Any] = {
        "booking_id": booking_id, "new_table": table_id, "new_party": party_size,
        "new_requests": special_requests, **_window(starts_at, ends_at, now),
    }  # fmt: skip
    return await conn.fetchval(MOVE_IF_FREE, params) is not None


async def insert_if_free(
    conn: Conn,
    *,
    user_id: int | None,
    table_id: int,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
    special_requests: str | None,
    now: datetime,
    guest_id: int | None = None,
    source: str = "online",
    hold_expires_at: datetime | None = None,
    pacing_override_reason: str | None = None,
) -> int | None:
    """The new booking's id (a hold's, given `hold_expires_at`), or None if an active
    booking or live hold of the table overlaps."""
    status = BookingStatus.confirmed if hold_expires_at is None else BookingStatus.held
    params: dict[str, Any] = {
        "user_id": user_id, "guest_id": guest_id, "source": source, "table_id": table_id,
        "party_size": party_size, "status": status.value, "hold_expires_at": hold_expires_at,
        "special_requests": special_requests, "pacing_override_reason": pacing_override_reason,
        **_window(starts_at, ends_at, now),
    }  # fmt: skip
    found = await conn.fetchval(INSERT_IF_FREE, params)
    return None if found is None else int(found)


async def table_row(conn: Conn, table_id: int) -> TableRow | None:
    row = await conn.fetchrow(ONE_TABLE, {"table_id": table_id})
    return None if row is None else TableRow(*row)


async def free_tables_at(
    conn: Conn, party_size: int, starts_at: datetime, ends_at: datetime, now: datetime
) -> list[TableRow]:
    """Bookable tables that seat the party with no booking (or live hold) overlapping,
    best fit first."""
    rows = await conn.fetch(FREE_TABLES, {"party": party_size, **_window(starts_at, ends_at, now)})
    return [TableRow(*row) for row in rows]


class DayRead(NamedTuple):
    tables: list[TableRow]  # best fit first
    busy: dict[int, list[Interval]]  # per table: its bookings and live holds
    holds_until: datetime | None  # when the first of the live holds read expires


async def read_day(
    conn: Conn, party_size: int, starts_at: datetime, ends_at: datetime, now: datetime
) -> DayRead:
    """The fitting tables, best fit first, and their bookings (and holds live at `now`)
    overlapping the window."""
    rows = await conn.fetch(DAY_TABLES, {"party": party_size, **_window(starts_at, ends_at, now)})
    tables: dict[int, TableRow] = {}
    busy: dict[int, list[Interval]] = defaultdict(list)
    width = len(TableRow._fields)
    holds_until: datetime | None = None
    for row in rows:
        table = tables.get(row[0])
        if table is None:
            table = tables[row[0]] = TableRow(*row[:width])
        starts, ends, expires = row[width], row[width + 1], row[width + 2]
        if starts is not None:
            busy[table.id].append((starts, ends))
            if expires is not None and (holds_until is None or expires < holds_until):
                holds_until = expires
    return DayRead(list(tables.values()), busy, holds_until)


# Pacing: the covers (sum of party sizes) of the active bookings starting in [start,
# end), per start instant; `exclude` leaves one booking out (a change of it). Walks the
# starts_at index over one slot interval, or one day for the day's plan.
COVERS = Query(
    select(Booking.starts_at, func.sum(Booking.party_size))
    .where(
        ACTIVE,
        Booking.combined_with.is_(None),  # a combination's party counts once
        Booking.starts_at >= _START,
        Booking.starts_at < _END,
        Booking.id != bindparam("exclude", type_=Integer()),
    )
    .group_by(Booking.starts_at)
)


async def covers_by_start(
    conn: Conn, starts_at: datetime, ends_at: datetime, *, exclude: int = 0
) -> dict[datetime, int]:
    """Covers of the active bookings starting in [starts_at, ends_at), by start."""
    rows = await conn.fetch(COVERS, {"start": starts_at, "end": ends_at, "exclude": exclude})
    return {row[0]: int(row[1]) for row in rows}


_BOOK_TABLE = func.book_table(
    bindparam("user_id", type_=Integer()),
    bindparam("party_size", type_=Integer()),
    bindparam("start", type_=UTCDateTime()),
    bindparam("end", type_=UTCDateTime()),
    bindparam("earliest", type_=UTCDateTime()),
    bindparam("day", type_=Date()),
    bindparam("table_id", type_=Integer()),
    bindparam("special_requests", type_=String()),
    bindparam("now", type_=UTCDateTime()),
    bindparam("max_active", type_=Integer()),
).table_valued("new_booking", "new_table", "new_table_number", "new_guest", "new_guest_name",
               "new_guest_phone", "new_guest_email")  # fmt: skip
BOOK_TABLE = Query(select(*_BOOK_TABLE.c))


def book_table_params(
    *,
    user_id: int,
    slot: Slot,
    day: date,
    party_size: int,
    table_id: int | None,
    special_requests: str | None,
    now: datetime,
    max_active: int,
) -> dict[str, Any]:
    """The parameters of BOOK_TABLE for a resolved slot."""
    return {
        "user_id": user_id, "party_size": party_size, "start": slot.starts_at,
        "end": slot.ends_at, "earliest": slot.starts_at - MAX_DURATION, "day": day,
        "table_id": table_id, "special_requests": special_requests, "now": now,
        "max_active": max_active,
    }  # fmt: skip


PRINCIPAL = Query(
    select(User.id, User.email, User.name, User.role, User.is_active).where(
        User.id == bindparam("id")
    )
)


_KEYS = IdempotencyKey.metadata.tables["idempotency_keys"]
_THIS_KEY = (_KEYS.c.user_id == bindparam("user_id"), _KEYS.c.key == bindparam("key"))
FIND_KEY = Query(
    select(_KEYS.c.request_hash, _KEYS.c.response, _KEYS.c.created_at).where(*_THIS_KEY)
)
DROP_KEY = Query(delete(_KEYS).where(*_THIS_KEY))
SAVE_KEY = Query(
    insert(_KEYS),
    columns=["user_id", "key", "request_hash", "status_code", "response", "created_at"],
)


NOTIFY = Query(
    select(func.pg_notify(literal(CHANNEL, String()), bindparam("payload", type_=String())))
)
