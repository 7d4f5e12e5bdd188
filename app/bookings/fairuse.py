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

from sqlalchemy import Integer, bindparam, select

from app.bookings.exceptions import OverlappingBooking, TooManyBookings
from app.bookings.models import Booking
from app.bookings.statements import ACTIVE as _ACTIVE
from app.db.base import UTCDateTime
from app.db.locks import LockSpace, advisory_xact_lock
from app.db.statements import Conn, Query
from app.venue.calendar import Slot, Venue

_HELD = Query(
    select(Booking.id, Booking.starts_at, Booking.ends_at)
    .where(
        Booking.user_id == bindparam("user_id", type_=Integer()),
        _ACTIVE,
        Booking.ends_at > bindparam("now", type_=UTCDateTime()),
    )
    .order_by(Booking.starts_at)
)


async def check(
    conn: Conn, user_id: int, venue: Venue, slot: Slot, *, now: datetime, ignore: int | None = None
) -> None:
    """Raise if the account may not also hold `slot`. `ignore`: the booking being moved
    there, which adds no booking, so only the overlap is checked (a limit lowered since
    never stops a guest moving a booking they hold)."""
    await advisory_xact_lock(conn, LockSpace.ACCOUNT, user_id)
    held = [row for row in await conn.fetch(_HELD, {"user_id": user_id, "now": now})
            if row[0] != ignore]  # fmt: skip
    for booking_id, starts_at, ends_at in held:
        if starts_at < slot.ends_at and ends_at > slot.starts_at:
            local = venue.local(starts_at)
            raise OverlappingBooking(
                f"You already have booking {booking_id} on {local:%Y-%m-%d} at {local:%H:%M}, "
                "which overlaps this time; change or cancel that one instead",
                booking_id=booking_id,
            )
    if ignore is None and len(held) >= venue.max_active_bookings:
        raise TooManyBookings(
            f"You already hold {len(held)} upcoming bookings, the most one guest may hold "
            "at once; cancel one or call the restaurant"
        )
