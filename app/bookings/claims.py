"""The statements of holds and combinations (app.bookings.placement, holds, changes):
the other tables' rows of a combination booking, and holds marked expired. They share
the overlap test and bound parameters of app.bookings.statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, exists, insert, literal, select, update

from app.bookings.models import BookingStatus
from app.bookings.statements import (
    _BOOKINGS,
    _EARLIEST,
    _END,
    _HELD,
    _NOW,
    _OTHER,
    _START,
    _overlapping,
    _window,
    claiming,
)
from app.db.base import UTCDateTime
from app.db.statements import Conn, Query
from app.floor.models import RestaurantTable

# A companion row of a combination booking (its other tables), under the same check.
INSERT_COMPANION_IF_FREE = Query(
    insert(_BOOKINGS)
    .from_select(
        ["combined_with", "source", "table_id", "party_size", "starts_at", "ends_at",
         "status", "hold_expires_at", "created_at", "updated_at"],
        select(
            bindparam("combined_with", type_=Integer()),
            bindparam("source", type_=String()),
            bindparam("table_id", type_=Integer()),
            bindparam("party_size", type_=Integer()),
            _START,
            _END,
            bindparam("status", type_=String()),
            bindparam("hold_expires_at", type_=UTCDateTime()),
            _NOW,
            _NOW,
        ).where(~exists().where(_overlapping(bindparam("table_id", type_=Integer())))),
    )
    .returning(_BOOKINGS.c.id)
)  # fmt: skip
# Holds of a table over by `now` and overlapping the window: marked expired, so the
# exclusion constraint (which counts every held row) lets the table be taken. Run under
# the table's lock before a write onto it.
EXPIRE_HOLDS = Query(
    update(_BOOKINGS)
    .where(
        _BOOKINGS.c.table_id == bindparam("on_table", type_=Integer()),
        _BOOKINGS.c.status == _HELD,
        _BOOKINGS.c.hold_expires_at <= _NOW,
        _BOOKINGS.c.starts_at < _END,
        _BOOKINGS.c.starts_at > _EARLIEST,
        _BOOKINGS.c.ends_at > _START,
    )
    .values(status=BookingStatus.expired.value, updated_at=_NOW)
)


# Undo a combination's rows when one of its tables turned out taken (nothing else of the
# request's transaction is touched).
DROP_PLACED = Query(
    delete(_BOOKINGS).where(
        (_BOOKINGS.c.id == bindparam("booking_id", type_=Integer()))
        | (_BOOKINGS.c.combined_with == bindparam("booking_id", type_=Integer()))
    )
)
# The other tables of combination bookings: (booking id, table number), by number.
_TABLES_T = RestaurantTable.__table__
COMPANION_NUMBERS = Query(
    select(_BOOKINGS.c.combined_with, _TABLES_T.c.table_number)
    .join(_TABLES_T, _TABLES_T.c.id == _BOOKINGS.c.table_id)
    .where(_BOOKINGS.c.combined_with == bindparam("booking_id", type_=Integer()))
    .order_by(_TABLES_T.c.table_number)
)

# Another row (not `booking_id`'s) keeps the table over [start, end): what MOVE_IF_FREE's
# check asks, alone.
OTHER_OVERLAP = Query(
    select(literal(1)).where(
        exists().where(
            (_OTHER.c.table_id == bindparam("on_table", type_=Integer()))
            & (_OTHER.c.id != bindparam("booking_id", type_=Integer()))
            & claiming(_OTHER.c)
            & (_OTHER.c.starts_at < _END)
            & (_OTHER.c.starts_at > _EARLIEST)
            & (_OTHER.c.ends_at > _START)
        )
    )
)
DROP_COMPANIONS = Query(
    delete(_BOOKINGS).where(_BOOKINGS.c.combined_with == bindparam("booking_id", type_=Integer()))
)


async def free_but_for(
    conn: Conn, table_id: int, booking_id: int, starts_at: datetime, ends_at: datetime,
    now: datetime,
) -> bool:  # fmt: skip
    """Nothing but the booking itself keeps the table over [starts_at, ends_at)."""
    params = {"on_table": table_id, "booking_id": booking_id, **_window(starts_at, ends_at, now)}
    return await conn.fetchval(OTHER_OVERLAP, params) is None


async def insert_companion_if_free(
    conn: Conn, *, booking_id: int, table_id: int, party_size: int, source: str,
    status: str, hold_expires_at: datetime | None, starts_at: datetime, ends_at: datetime,
    now: datetime,
) -> bool:  # fmt: skip
    """A combination booking's row for one more of its tables, unless the table is taken
    (False, nothing written)."""
    params: dict[str, Any] = {
        "combined_with": booking_id, "source": source, "table_id": table_id,
        "party_size": party_size, "status": status, "hold_expires_at": hold_expires_at,
        **_window(starts_at, ends_at, now),
    }  # fmt: skip
    return await conn.fetchval(INSERT_COMPANION_IF_FREE, params) is not None


async def expire_holds(
    conn: Conn, table_id: int, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    """Mark the table's holds over by `now` that overlap the window expired (call it
    under the table's lock, before writing onto the table)."""
    await conn.execute(EXPIRE_HOLDS, {"on_table": table_id, **_window(starts_at, ends_at, now)})
