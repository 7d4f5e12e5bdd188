"""The offer link (`{PUBLIC_BASE_URL}/waitlist/offers/{token}`): no sign-in, the token is
the key. The token is random and only its SHA-256 is stored, so the database alone cannot
confirm anyone's offer. The link shows the table held (never who it is for), confirms it
(the hold becomes the entry's guest's booking, app.bookings.holds.confirm) or declines it
(the table goes to the next entry). A token that names nothing is a 404; an offer that has
lapsed, been declined or withdrawn is a 410; one already confirmed a 409 on confirming."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Principal
from app.bookings import holds
from app.bookings import statements as sql
from app.bookings.schemas import BookingCreate, BookingOut
from app.config import Settings
from app.venue import service as venue_service
from app.waitlist import offers
from app.waitlist.exceptions import OfferGone, OfferNotFound, OfferTaken
from app.waitlist.models import EntryStatus, WaitlistEntry
from app.waitlist.schemas import OfferOut

MAX_TOKEN = 200


async def _find(session: AsyncSession, token: str) -> WaitlistEntry:
    if not token or len(token) > MAX_TOKEN:
        raise OfferNotFound()
    entry: WaitlistEntry | None = await session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.offer_token_hash == offers.token_hash(token))
    )
    if entry is None:
        raise OfferNotFound()
    return entry


def _live(entry: WaitlistEntry, now: datetime) -> bool:
    expires = entry.offer_expires_at
    return entry.status == EntryStatus.offered and expires is not None and expires > now


async def view(session: AsyncSession, token: str, *, now: datetime) -> OfferOut:
    entry = await _find(session, token)
    if not (_live(entry, now) or entry.status == EntryStatus.booked) or entry.hold_id is None:
        raise OfferGone()
    rows = await offers.hold_rows(session, entry.hold_id)
    if not rows or entry.offer_expires_at is None:
        raise OfferGone()
    venue = await venue_service.venue_for(session)
    starts, ends, _ = rows[0]
    local = venue.local(starts)
    booked = entry.status == EntryStatus.booked
    return OfferOut(
        status=entry.status, date=local.date(), time=f"{local:%H:%M}",
        party_size=entry.party_size, starts_at=local, ends_at=venue.local(ends),
        table_numbers=sorted(n for _, _, n in rows),
        expires_at=venue.local(entry.offer_expires_at),
        booking_id=entry.hold_id if booked else None,
    )  # fmt: skip


async def _locked(session: AsyncSession, token: str, now: datetime) -> WaitlistEntry:
    """The token's entry, read again under its date's lock; still offered and live."""
    found = await _find(session, token)
    await offers.lock_day(session, found.day)
    entry = await offers.reload(session, found.id)
    if entry is None:
        raise OfferNotFound()
    if entry.status == EntryStatus.booked:
        raise OfferTaken(f"This offer was already confirmed: booking #{entry.hold_id}")
    if not _live(entry, now) or entry.hold_id is None:
        raise OfferGone()
    return entry


async def confirm(
    session: AsyncSession, token: str, *, settings: Settings, now: datetime
) -> BookingOut:
    """The offer's hold becomes its guest's booking (their confirmation e-mail follows),
    under the rules of a guest's own booking (fair use), the lead time having been
    checked when the offer was made."""
    entry = await _locked(session, token, now)
    conn = await offers.lock_day(session, entry.day)
    row = await conn.fetchrow(sql.PRINCIPAL, {"id": entry.user_id})
    if row is None or not row[4]:
        raise OfferGone()
    user = Principal(*row)
    assert entry.hold_id is not None
    rows = await offers.hold_rows(session, entry.hold_id)
    venue = await venue_service.get_venue(conn)
    local = venue.local(rows[0][0])
    data = BookingCreate.model_validate({
        "date": local.date().isoformat(), "time": f"{local:%H:%M}",
        "party_size": entry.party_size, "hold_id": entry.hold_id,
    })  # fmt: skip
    booking = await holds.confirm(
        conn, data, venue, user=user, now=now, region=settings.phone_region, lead=False
    )
    if booking is None:
        raise OfferGone()
    entry.status = EntryStatus.booked
    entry.updated_at = now
    await session.flush()
    return booking


async def decline(session: AsyncSession, token: str, *, settings: Settings, now: datetime) -> None:
    """The guest does not want it: the hold is released and offered to the next entry."""
    entry = await _locked(session, token, now)
    await offers.withdraw(session, entry, EntryStatus.declined, settings=settings, now=now)
