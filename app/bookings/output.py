"""A booking as the API shows it (BookingOut): its tables (every one, for a
combination), its guest, times in the restaurant's zone."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingRecord
from app.bookings.schemas import BookingOut
from app.floor.models import RestaurantTable
from app.guests.models import Guest
from app.guests.schemas import GuestOut
from app.venue.calendar import Venue


def to_out(
    booking: Booking | BookingRecord,
    table_number: int,
    venue: Venue,
    guest: GuestOut | None,
    table_numbers: Sequence[int] = (),
) -> BookingOut:
    """`table_numbers`: every table a combination booking takes (else just its own)."""
    local_start = venue.local(booking.starts_at)
    return BookingOut(
        id=booking.id,
        user_id=booking.user_id,
        guest=guest,
        source=booking.source,
        table_id=booking.table_id,
        table_number=table_number,
        table_numbers=list(table_numbers) or [table_number],
        party_size=booking.party_size,
        date=local_start.date(),
        time=local_start.strftime("%H:%M"),
        starts_at=local_start,
        ends_at=venue.local(booking.ends_at),
        status=booking.status,
        special_requests=booking.special_requests,
        created_at=booking.created_at,
        pacing_override_reason=booking.pacing_override_reason,
    )


def guest_out(guest: Guest | None) -> GuestOut | None:
    if guest is None:
        return None
    return GuestOut(id=guest.id, name=guest.name, phone=guest.phone, email=guest.email)


async def other_tables(session: AsyncSession, booking_ids: Sequence[int]) -> dict[int, list[int]]:
    """The other tables' numbers of those bookings that are combinations."""
    if not booking_ids:
        return {}
    rows = await session.execute(
        select(Booking.combined_with, RestaurantTable.table_number)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .where(Booking.combined_with.in_(booking_ids))
    )
    out: dict[int, list[int]] = {}
    for booking_id, number in rows:
        if booking_id is not None:
            out.setdefault(booking_id, []).append(number)
    return out


def numbers(own: int, others: Sequence[int] | None) -> list[int]:
    return sorted([own, *others]) if others else [own]
