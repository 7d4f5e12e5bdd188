"""The manage link (`{PUBLIC_BASE_URL}/manage/{token}`, app.links): a guest reads,
changes or cancels their booking without signing in, under a customer's rules.

Whatever is wrong with a token (forged, tampered, not a manage token, naming a booking
that does not exist, has ended, is cancelled, or is now another guest's), the answer is
the same 404 as for a missing booking: the link reveals nothing. The routes are
rate-limited per client address (app.bookings.dependencies.manage_links)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import changes, service
from app.bookings.exceptions import BookingNotFound
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingChange, BookingOut
from app.config import Settings
from app.guests.models import Guest
from app.links import Links
from app.venue import service as venue_service


async def load_managed(
    session: AsyncSession, links: Links, token: str, *, now: datetime, for_update: bool = False
) -> tuple[Booking, int]:
    """The booking a manage token names and its table's number, or BookingNotFound."""
    claims = links.read_manage_token(token)
    if claims is None:
        raise BookingNotFound()
    found = await service.find_booking(session, claims.booking_id, for_update=for_update)
    if found is None:
        raise BookingNotFound()
    booking, number = found
    if (
        booking.guest_id != claims.guest_id
        or booking.status not in (BookingStatus.confirmed, BookingStatus.seated)
        or booking.ends_at <= now
    ):
        raise BookingNotFound()
    return booking, number


async def get_managed(
    session: AsyncSession, links: Links, token: str, *, now: datetime
) -> BookingOut:
    booking, number = await load_managed(session, links, token, now=now)
    guest = await session.get(Guest, booking.guest_id) if booking.guest_id else None
    venue = await venue_service.venue_for(session)
    return service.to_out(booking, number, venue, service.guest_out(guest))


async def change_managed(
    session: AsyncSession, links: Links, token: str, data: BookingChange, *, now: datetime
) -> BookingOut:
    booking, number = await load_managed(session, links, token, now=now, for_update=True)
    return await changes.change_loaded(session, booking, number, data, staff=False, now=now)


async def cancel_managed(
    session: AsyncSession, links: Links, token: str, *, settings: Settings, now: datetime
) -> None:
    booking, number = await load_managed(session, links, token, now=now, for_update=True)
    await service.cancel_loaded(session, booking, number, actor=None, settings=settings, now=now)
