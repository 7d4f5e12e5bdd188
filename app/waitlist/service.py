"""The waitlist's rules: a guest joins for a date, a window of start times and a party
(the venue's booking rules apply), sees and leaves their entries; staff see a date's list
(guests waiting ahead and walk-ins at the door, in order), add walk-ins, seat or remove
them, and offer an entry what is free now. Offers themselves: app.waitlist.offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings import availability
from app.config import Settings
from app.db.statements import session_conn
from app.guests import service as guests
from app.guests.models import Guest
from app.venue import service as venue_service
from app.venue.calendar import Venue
from app.waitlist import offers
from app.waitlist.exceptions import (
    AlreadyWaiting,
    EntryClosed,
    EntryNotFound,
    NothingToOffer,
    TableFree,
    WindowNotBookable,
)
from app.waitlist.models import EntryKind, EntryStatus, WaitlistEntry
from app.waitlist.schemas import EntryOut, OfferSummary, WaitlistJoin, WalkInCreate


def _hhmm(value: object) -> str | None:
    return None if value is None else f"{value:%H:%M}"


async def to_out(
    session: AsyncSession, entries: Sequence[WaitlistEntry], venue: Venue, *, positions: bool
) -> list[EntryOut]:
    guest_ids = {e.guest_id for e in entries if e.guest_id is not None}
    people: dict[int, Guest] = {}
    if guest_ids:
        found = await session.scalars(select(Guest).where(Guest.id.in_(guest_ids)))
        people = {g.id: g for g in found}
    out: list[EntryOut] = []
    waiting = 0
    for entry in entries:
        guest = people.get(entry.guest_id) if entry.guest_id is not None else None
        offer = None
        if entry.status == EntryStatus.offered and entry.hold_id and entry.offer_expires_at:
            rows = await offers.hold_rows(session, entry.hold_id)
            if rows:
                offer = OfferSummary(
                    time=f"{venue.local(rows[0][0]):%H:%M}",
                    table_numbers=sorted(n for _, _, n in rows),
                    expires_at=venue.local(entry.offer_expires_at),
                )
        position = None
        if positions and entry.status == EntryStatus.waiting:
            waiting += 1
            position = waiting
        out.append(EntryOut(
            id=entry.id, kind=entry.kind, status=entry.status, date=entry.day,
            earliest=_hhmm(entry.earliest), latest=_hhmm(entry.latest),
            party_size=entry.party_size, quoted_wait_minutes=entry.quoted_wait_minutes,
            name=guest.name if guest else None, phone=guest.phone if guest else None,
            email=guest.email if guest else None, position=position, offer=offer,
            booking_id=entry.hold_id if entry.status == EntryStatus.booked else None,
            created_at=venue.local(entry.created_at),
        ))  # fmt: skip
    return out


async def join(session: AsyncSession, data: WaitlistJoin, *, user: User, now: datetime) -> EntryOut:
    """A guest waits for a table: the party size and date follow the booking rules (422),
    the window must hold a start time still bookable; one open entry per date (409); and
    when a table is free in the window now, 409 with those times: book it instead (an
    entry would only be offered a table that comes free later)."""
    venue = await venue_service.venue_for(session)
    venue.check_party(data.party_size)
    venue.check_day(data.date, now)
    slots = [s for s in venue.slots(data.date, data.party_size)
             if data.earliest <= s.local_time <= data.latest]  # fmt: skip
    bookable = [s for s in slots if s.starts_at >= now + venue.lead]
    if not bookable:
        hours = ", ".join(
            f"{o // 60:02d}:{o % 60:02d}-{c // 60:02d}:{c % 60:02d}"
            for o, c in venue.services_on(data.date)
        )
        raise WindowNotBookable(
            f"No start time between {data.earliest:%H:%M} and {data.latest:%H:%M} on "
            f"{data.date.isoformat()} can be booked for {data.party_size} (opening hours "
            f"{hours}; bookings at least {venue.lead.total_seconds() // 60:.0f} minutes ahead)"
        )
    taken = await session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.user_id == user.id,
            WaitlistEntry.day == data.date,
            WaitlistEntry.status.in_(offers.OPEN),
        )
    )
    if taken is not None:
        raise AlreadyWaiting(f"You are already on the waitlist for {data.date.isoformat()}")
    conn = await session_conn(session)
    plan = await availability.day_plan(conn, venue, data.date, data.party_size, now)
    free = [s.label for s in bookable if plan.any_free(s)]
    if free:
        raise TableFree(
            f"A table for {data.party_size} is free at {', '.join(free[:6])}: book it",
            free_times=free,
        )
    guest = await guests.of_account(conn, user.id, now=now)
    entry = WaitlistEntry(
        kind=EntryKind.booking, status=EntryStatus.waiting, user_id=user.id,
        guest_id=guest.id, day=data.date, earliest=data.earliest.replace(second=0, microsecond=0),
        latest=data.latest.replace(second=0, microsecond=0), party_size=data.party_size,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request of the same account won
        raise AlreadyWaiting() from exc
    return (await to_out(session, [entry], venue, positions=False))[0]


async def mine(session: AsyncSession, *, user: User, now: datetime) -> list[EntryOut]:
    """The guest's entries for today and later, by date and then in order joined."""
    venue = await venue_service.venue_for(session)
    entries = await session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id, WaitlistEntry.day >= venue.today(now))
        .order_by(WaitlistEntry.day, WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return await to_out(session, list(entries.all()), venue, positions=False)


async def _entry(session: AsyncSession, entry_id: int, *, owner: User | None) -> WaitlistEntry:
    entry = await session.get(WaitlistEntry, entry_id)
    if entry is None or (owner is not None and entry.user_id != owner.id):
        raise EntryNotFound()
    return entry


async def leave(
    session: AsyncSession, entry_id: int, *, user: User, settings: Settings, now: datetime
) -> None:
    """The guest's own entry (another's is a 404) leaves the list; a table offered to it
    goes to the next entry."""
    entry = await _entry(session, entry_id, owner=user)
    await offers.withdraw(session, entry, EntryStatus.cancelled, settings=settings, now=now)


# -- staff -------------------------------------------------------------------------------


async def day_list(session: AsyncSession, day: date | None, *, now: datetime) -> list[EntryOut]:
    """A date's entries, both kinds, in the order they joined (open ones numbered)."""
    venue = await venue_service.venue_for(session)
    entries = await session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.day == (day or venue.today(now)))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return await to_out(session, list(entries.all()), venue, positions=True)


async def add_walk_in(
    session: AsyncSession, data: WalkInCreate, *, settings: Settings, now: datetime
) -> EntryOut:
    """A party at the door, for today: its guest record found or made from the details."""
    venue = await venue_service.venue_for(session)
    venue.check_party(data.party_size)
    conn = await session_conn(session)
    guest = await guests.for_details(conn, data, region=settings.phone_region, now=now)
    entry = WaitlistEntry(
        kind=EntryKind.walk_in, status=EntryStatus.waiting, guest_id=guest.id,
        day=venue.today(now), party_size=data.party_size,
        quoted_wait_minutes=data.quoted_wait_minutes, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(entry)
    await session.flush()
    return (await to_out(session, [entry], venue, positions=False))[0]


async def _staff_out(session: AsyncSession, entry: WaitlistEntry) -> EntryOut:
    venue = await venue_service.venue_for(session)
    return (await to_out(session, [entry], venue, positions=False))[0]


async def seat(
    session: AsyncSession, entry_id: int, *, settings: Settings, now: datetime
) -> EntryOut:
    """A waiting walk-in was given a table (staff seat it on the floor)."""
    entry = await _entry(session, entry_id, owner=None)
    if entry.kind != EntryKind.walk_in:
        raise EntryClosed(
            f"Waitlist entry {entry.id} waits for a booking: it is seated as its booking"
        )
    entry = await offers.withdraw(session, entry, EntryStatus.seated, settings=settings, now=now)
    return await _staff_out(session, entry)


async def remove(
    session: AsyncSession, entry_id: int, *, settings: Settings, now: datetime
) -> None:
    entry = await _entry(session, entry_id, owner=None)
    await offers.withdraw(session, entry, EntryStatus.cancelled, settings=settings, now=now)


async def offer_now(
    session: AsyncSession, entry_id: int, *, settings: Settings, now: datetime
) -> EntryOut:
    """Offer a waiting guest's entry what is free in its window now, out of turn (staff)."""
    entry = await _entry(session, entry_id, owner=None)
    if entry.kind != EntryKind.booking or entry.status != EntryStatus.waiting:
        raise EntryClosed(f"Waitlist entry {entry.id} is not a guest's entry still waiting")
    made = await offers.offer_day(session, entry.day, settings=settings, now=now, only=entry.id)
    locked = await offers.reload(session, entry.id)
    if not made or locked is None:
        raise NothingToOffer(
            f"No table for {entry.party_size} is free between {_hhmm(entry.earliest)} and "
            f"{_hhmm(entry.latest)}"
        )
    return await _staff_out(session, locked)
