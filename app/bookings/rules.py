"""The rules a new booking (or a hold, or a change) passes besides a free table: who
it is for (and fair use), which tables the booker may have (channels), and pacing."""

from __future__ import annotations

from datetime import date, datetime

from app.auth.models import Principal
from app.bookings import availability, fairuse
from app.bookings import statements as sql
from app.bookings.exceptions import SlotPacedOut, TableNotBookable
from app.bookings.models import BookingSource
from app.bookings.pacing import paced_message
from app.bookings.schemas import BookingCreate
from app.bookings.statements import TableRow
from app.db.locks import pacing_lock
from app.db.statements import Conn
from app.floor.models import TableChannel
from app.guests import service as guests
from app.guests.exceptions import BookingForOthersForbidden
from app.guests.schemas import GuestOut
from app.venue.calendar import Slot, Venue
from app.venue.reasons import ReasonCode


def check_channel(table: TableRow, *, staff: bool) -> None:
    """A table asked for by id: walk_in ones are never booked ahead, in_house ones only
    by staff (422)."""
    if table.channel == TableChannel.walk_in:
        raise TableNotBookable(
            f"Table {table.table_number} is kept for walk-ins and is not booked ahead"
        )
    if not availability.may_book(table, staff):
        raise TableNotBookable(
            f"Table {table.table_number} is not booked online; please call the restaurant"
        )


async def booking_guest(
    conn: Conn, data: BookingCreate, venue: Venue, slot: Slot, *, user: Principal,
    region: str, now: datetime,
) -> tuple[GuestOut, BookingSource]:  # fmt: skip
    """Who the booking is for, and how it came: the details staff give, or the account's
    own record (for a customer, after the fair-use check)."""
    if data.guest is not None:
        if not user.is_staff:
            raise BookingForOthersForbidden()
        guest = await guests.for_details(conn, data.guest, region=region, now=now)
        return guest, BookingSource(data.source or BookingSource.phone)
    if not user.is_staff:
        await fairuse.check(conn, user.id, venue, slot, now=now)
    return await guests.of_account(conn, user.id, now=now), BookingSource.online


async def check_pacing(
    conn: Conn, venue: Venue, day: date, slot: Slot, party_size: int, *, now: datetime,
    staff: bool, override: str | None, exclude: int = 0,
) -> str | None:  # fmt: skip
    """When the slot's service paces covers: under the slot interval's lock (held to
    the end of the transaction, so rival bookings of any table count each other), the
    covers starting in the interval must leave room for the party; else 409 paced_out
    with the nearest bookable times, unless staff give a reason (`override`), which is
    returned to be kept on the booking. `exclude`: a booking being changed."""
    pace = venue.pace_of(day, slot)
    if pace is None:
        return None
    limit, start, end = pace
    await pacing_lock(conn, start)
    taken = sum((await sql.covers_by_start(conn, start, end, exclude=exclude)).values())
    if taken + party_size <= limit:
        return None
    if staff and override is not None:
        return override
    alternatives = await availability.alternative_times(
        conn, venue, day, party_size, slot, now, staff=staff
    )
    raise SlotPacedOut(
        paced_message(venue, slot, limit, taken),
        alternatives=alternatives, code=ReasonCode.paced_out.value,
    )  # fmt: skip
