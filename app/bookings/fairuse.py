"""Fair use: what one customer account may hold at once (staff are exempt).

- No two active bookings of one account overlap in time: a party is in one place at a
  time, and a request retried without an Idempotency-Key cannot book twice.
- At most `max_active_bookings_per_guest` bookings not yet over (a restaurant setting):
  one account cannot hold more tables than the restaurant would give anyone.

Checked under the account's advisory lock (LockSpace.ACCOUNT), taken before any table's
lock, so two requests of one account are decided one after the other; PostgreSQL's
book_table applies the same rules under the same lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, func, select

from app.bookings.exceptions import OverlappingBooking, TooManyBookings
from app.bookings.models import Booking
from app.bookings.statements import ACTIVE as _ACTIVE
from app.db.base import UTCDateTime
from app.db.locks import LockSpace, advisory_xact_lock
from app.db.statements import Conn, Query
from app.venue.calendar import MAX_DURATION, Slot, Venue

_USER = Booking.user_id == bindparam("user_id", type_=Integer())
# Both read a bounded range of the (user_id, starts_at) index, however many bookings the
# account holds: an overlapping booking starts less than MAX_DURATION before the slot,
# and the count stops at the limit.
_OVERLAPPING = Query(
    select(Booking.id, Booking.starts_at)
    .where(
        _USER,
        _ACTIVE,
        Booking.starts_at > bindparam("earliest", type_=UTCDateTime()),
        Booking.starts_at < bindparam("ends", type_=UTCDateTime()),
        Booking.ends_at > bindparam("starts", type_=UTCDateTime()),
        Booking.id != bindparam("ignore", type_=Integer()),
    )
    .order_by(Booking.starts_at)
    .limit(1)
)
_HELD = Query(
    select(func.count()).select_from(
        select(Booking.id)
        .where(
            _USER,
            _ACTIVE,
            Booking.starts_at > bindparam("recent", type_=UTCDateTime()),
            Booking.ends_at > bindparam("now", type_=UTCDateTime()),
        )
        .limit(bindparam("limit", type_=Integer()))
        .subquery()
    )
)


async def check(
    conn: Conn, user_id: int, venue: Venue, slot: Slot, *, now: datetime, ignore: int | None = None
) -> None:
    """Raise if the account may not also hold `slot`. `ignore`: the booking being moved
    there, which adds no booking, so only the overlap is checked (a limit lowered since
    never stops a guest moving a booking they hold)."""
    await advisory_xact_lock(conn, LockSpace.ACCOUNT, user_id)
    overlapping = await conn.fetchrow(_OVERLAPPING, {
        "user_id": user_id, "earliest": slot.starts_at - MAX_DURATION, "ends": slot.ends_at,
        "starts": slot.starts_at, "ignore": ignore or 0,
    })  # fmt: skip
    if overlapping is not None:
        booking_id, starts_at = overlapping
        local = venue.local(starts_at)
        raise OverlappingBooking(
            f"You already have booking {booking_id} on {local:%Y-%m-%d} at {local:%H:%M}, "
            "which overlaps this time; change or cancel that one instead",
            booking_id=booking_id,
        )
    if ignore is not None:
        return
    limit = venue.max_active_bookings
    held = await conn.fetchval(_HELD, {
        "user_id": user_id, "recent": now - MAX_DURATION, "now": now, "limit": limit,
    })  # fmt: skip
    if held >= limit:
        raise TooManyBookings(
            f"You already hold {held} upcoming bookings, the most one guest may hold "
            "at once; cancel one or call the restaurant"
        )
