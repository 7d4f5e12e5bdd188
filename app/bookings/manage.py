"""The manage link (`{PUBLIC_BASE_URL}/manage/{token}`, app.links): a guest reads,
changes or cancels their booking without signing in, under a customer's rules. And what
the web app's confirmation page offers beside it: the link itself for the booking's
account holder, and the booking as a calendar file.

Whatever is wrong with a token (forged, tampered, not a manage token, naming a booking
that does not exist, has ended, is cancelled, or is now another guest's), the answer is
the same 404 as for a missing booking: the link reveals nothing. The routes are
rate-limited per client address (app.bookings.dependencies.manage_links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings import changes, service
from app.bookings.exceptions import BookingNotFound, BookingNotLive
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingChange, BookingOut, ManageLink
from app.config import Settings
from app.guests.models import Guest
from app.links import Links
from app.notifications import invitation, outbox
from app.venue import service as venue_service

LIVE = (BookingStatus.confirmed, BookingStatus.seated)


def is_live(booking: Booking, now: datetime) -> bool:
    """Whether the booking's manage link works: confirmed or seated, and not ended."""
    return booking.status in LIVE and booking.ends_at > now


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
    if booking.guest_id != claims.guest_id or not is_live(booking, now):
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
    session: AsyncSession, links: Links, token: str, data: BookingChange, *,
    settings: Settings, now: datetime,
) -> BookingOut:  # fmt: skip
    booking, number = await load_managed(session, links, token, now=now, for_update=True)
    return await changes.change_loaded(
        session, booking, number, data, staff=False, now=now, settings=settings
    )


async def cancel_managed(
    session: AsyncSession, links: Links, token: str, *, settings: Settings, now: datetime
) -> None:
    booking, number = await load_managed(session, links, token, now=now, for_update=True)
    await service.cancel_loaded(session, booking, number, actor=None, settings=settings, now=now)


def _require_live(booking: Booking, now: datetime, what: str) -> None:
    if booking.status not in LIVE:
        raise BookingNotLive(
            f"Booking {booking.id} is {booking.status.value.replace('_', ' ')}: only a "
            f"confirmed or seated booking has {what}"
        )
    if booking.ends_at <= now:
        raise BookingNotLive(f"Booking {booking.id} has ended: it no longer has {what}")


async def manage_link(
    session: AsyncSession, booking_id: int, *, user: User, settings: Settings, now: datetime
) -> ManageLink:
    """The link the booking's e-mails carry, for its account holder or staff (anyone
    else: BookingNotFound); BookingNotLive when the link would not work."""
    booking, _ = await service.load_booking(session, booking_id, user)
    _require_live(booking, now, "a manage link")
    links = Links(settings)
    return ManageLink(
        url=links.manage_url(booking.id, booking.guest_id),
        token=links.manage_token(booking.id, booking.guest_id),
    )


@dataclass(frozen=True, slots=True)
class CalendarFile:
    name: str
    text: str


async def _calendar_file(
    session: AsyncSession, booking: Booking, *, settings: Settings, now: datetime
) -> CalendarFile:
    venue = await venue_service.venue_for(session)
    sequence = await outbox.sequence_of(session, booking.id)
    event = invitation.for_download(
        booking, settings=settings, venue=venue, sequence=sequence, now=now
    )
    return CalendarFile(f"booking-{booking.id}.ics", event.to_ics())


async def calendar_of(
    session: AsyncSession, booking_id: int, *, user: User, settings: Settings, now: datetime
) -> CalendarFile:
    """The booking as a calendar file, for its account holder or staff."""
    booking, _ = await service.load_booking(session, booking_id, user)
    _require_live(booking, now, "a calendar file")
    return await _calendar_file(session, booking, settings=settings, now=now)


async def calendar_managed(
    session: AsyncSession, links: Links, token: str, *, settings: Settings, now: datetime
) -> CalendarFile:
    """The booking a manage link names as a calendar file (as GET: 404 unless it works)."""
    booking, _ = await load_managed(session, links, token, now=now)
    return await _calendar_file(session, booking, settings=settings, now=now)
