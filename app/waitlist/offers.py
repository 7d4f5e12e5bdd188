"""Offering freed tables to the waitlist: in the transaction that frees a table (a
cancellation, a change that moves a booking away, a no-show), the date's waiting entries,
oldest first, are each given a hold (app.bookings.placement, as POST /bookings/holds
places one) on a fitting table at the first start time of their window where one is now
free, with an e-mail whose link confirms it within WAITLIST_OFFER_MINUTES.

Why it is safe when cancellations race:
- everything that changes a date's entries (an offer pass, a confirmation, a guest
  leaving, staff removing) first takes the date's advisory lock (LockSpace.WAITLIST_DAY;
  on SQLite the request holds the write lock), then reads the entries again: an entry is
  never offered twice at once;
- an offer pass then takes the day's locks of every bookable table, in the order every
  booking takes them (capacity, number), before placing anything, so it never waits for
  a table lock while holding one out of order;
- each hold is a row under the tables' locks and the exclusion constraint: a table is
  held for one entry at a time, and never for a guest while someone else books it.

An offer that lapses needs no job for the tables (a hold stops counting the instant it
expires); the entry is marked expired and the next one offered by the sweep
(sweep_once, every minute in the worker) and by every offer pass of its date.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings import availability, placement
from app.bookings.models import Booking, BookingSource, BookingStatus
from app.config import Settings
from app.db.locks import LockSpace, advisory_xact_lock, table_day_lock
from app.db.statements import Conn, session_conn
from app.floor.models import RestaurantTable
from app.links import Links
from app.notifications import outbox
from app.notifications.content import common_context
from app.venue import service as venue_service
from app.venue.calendar import Slot, Venue
from app.waitlist.exceptions import EntryClosed
from app.waitlist.models import EntryKind, EntryStatus, WaitlistEntry
from app.webhooks import service as webhooks

OPEN = (EntryStatus.waiting, EntryStatus.offered)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def lock_day(session: AsyncSession, day: date) -> Conn:
    """The date's waitlist lock (PostgreSQL; SQLite's writer holds the write lock)."""
    conn = await session_conn(session)
    await advisory_xact_lock(conn, LockSpace.WAITLIST_DAY, day.toordinal())
    return conn


async def reload(session: AsyncSession, entry_id: int) -> WaitlistEntry | None:
    """The entry read again, locked (call with its date's lock held)."""
    found: WaitlistEntry | None = await session.scalar(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


async def has_open(session: AsyncSession, day: date) -> bool:
    found = await session.scalar(
        select(WaitlistEntry.id)
        .where(
            WaitlistEntry.day == day,
            WaitlistEntry.status.in_(OPEN),
            WaitlistEntry.kind == EntryKind.booking,
        )
        .limit(1)
    )
    return found is not None


async def table_freed(
    session: AsyncSession, day: date, *, settings: Settings, now: datetime
) -> int:
    """Call in the transaction that freed a table on local `day`, after writing that:
    offers what is now free to the date's waiting entries. One indexed read when nobody
    waits. Returns how many offers were made."""
    if not await has_open(session, day):
        return 0
    return await offer_day(session, day, settings=settings, now=now)


async def release_hold(session: AsyncSession, hold_id: int | None, now: datetime) -> None:
    """Give an offer's tables back at once (a combination's other rows follow by trigger)."""
    if hold_id is None:
        return
    await session.execute(
        update(Booking)
        .where(Booking.id == hold_id, Booking.status == BookingStatus.held)
        .values(status=BookingStatus.expired, hold_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def _lapse(session: AsyncSession, day: date, now: datetime) -> None:
    """The date's offers that are over (past their time, or their hold released) become
    expired, their holds released."""
    rows = await session.execute(
        select(WaitlistEntry, Booking.status)
        .outerjoin(Booking, Booking.id == WaitlistEntry.hold_id)
        .where(WaitlistEntry.day == day, WaitlistEntry.status == EntryStatus.offered)
        .with_for_update(of=WaitlistEntry)
        .execution_options(populate_existing=True)
    )
    for entry, hold_status in rows.all():
        expires = entry.offer_expires_at
        if hold_status == BookingStatus.held and expires is not None and expires > now:
            continue
        await release_hold(session, entry.hold_id, now)
        entry.status = EntryStatus.expired
        entry.updated_at = now
    await session.flush()


async def _lock_tables(conn: Conn, session: AsyncSession, day: date) -> None:
    if conn.dialect_name != "postgresql":
        return
    ids = await session.scalars(
        select(RestaurantTable.id)
        .where(RestaurantTable.bookable.is_(True))
        .order_by(RestaurantTable.capacity, RestaurantTable.table_number)
    )
    for table_id in ids.all():
        await table_day_lock(conn, table_id, day)


async def offer_day(
    session: AsyncSession,
    day: date,
    *,
    settings: Settings,
    now: datetime,
    only: int | None = None,
) -> int:
    """Under the date's lock: lapse the offers that are over, then offer each waiting
    entry (or just entry `only`), oldest first, what is free in its window. Returns how
    many offers were made."""
    conn = await lock_day(session, day)
    await _lapse(session, day, now)
    query = (
        select(WaitlistEntry)
        .where(
            WaitlistEntry.day == day,
            WaitlistEntry.kind == EntryKind.booking,
            WaitlistEntry.status == EntryStatus.waiting,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(WaitlistEntry.id == only)
    entries = list((await session.scalars(query)).all())
    if not entries:
        return 0
    venue = await venue_service.venue_for(session)
    await _lock_tables(conn, session, day)
    made = 0
    for entry in entries:
        made += await _offer(session, conn, venue, entry, settings=settings, now=now)
    await session.flush()
    return made


def window(venue: Venue, entry: WaitlistEntry) -> list[Slot]:
    """The entry's start times on the slot grid (all of them, past ones too)."""
    assert entry.earliest is not None and entry.latest is not None
    earliest, latest = entry.earliest, entry.latest
    return [s for s in venue.slots(entry.day, entry.party_size)
            if earliest <= s.local_time <= latest]  # fmt: skip


async def _offer(
    session: AsyncSession, conn: Conn, venue: Venue, entry: WaitlistEntry, *,
    settings: Settings, now: datetime,
) -> bool:  # fmt: skip
    """Hold the first free fitting table (or combination) in the entry's window for its
    guest, and tell them. An entry whose window can no longer be booked expires."""
    future = [s for s in window(venue, entry) if s.starts_at >= now + venue.lead]
    if not future:
        entry.status = EntryStatus.expired
        entry.updated_at = now
        return False
    plan = await availability.day_plan(conn, venue, entry.day, entry.party_size, now)
    for slot in future:
        if not plan.any_free(slot):
            continue
        until = min(now + timedelta(minutes=settings.waitlist_offer_minutes), slot.starts_at)
        row = placement.Row(
            user_id=entry.user_id, guest_id=None, source=BookingSource.online.value,
            party_size=entry.party_size, special_requests=None, hold_expires_at=until,
        )  # fmt: skip
        placed = await placement.place(
            conn, row, venue=venue, slot=slot, day=entry.day, table_id=None,
            combination_id=None, now=now, staff=False,
        )  # fmt: skip
        if placed is None:
            continue
        token = secrets.token_urlsafe(32)
        entry.status = EntryStatus.offered
        entry.hold_id = placed.booking_id
        entry.offered_at = now
        entry.offer_expires_at = until
        entry.offer_token_hash = token_hash(token)
        entry.updated_at = now
        await session.flush()
        await _tell(session, conn, venue, entry, slot, token, settings=settings, now=now)
        await _announce_offer(conn, venue, entry, slot, placed, now=now)
        return True
    return False


async def _tell(
    session: AsyncSession, conn: Conn, venue: Venue, entry: WaitlistEntry, slot: Slot,
    token: str, *, settings: Settings, now: datetime,
) -> None:  # fmt: skip
    user = await session.get(User, entry.user_id) if entry.user_id is not None else None
    if user is None or entry.hold_id is None or entry.offer_expires_at is None:
        return
    local = venue.local(slot.starts_at)
    until = entry.offer_expires_at
    context = {
        **common_context(settings, venue),
        "name": user.name,
        "date": f"{local:%A} {local.day} {local:%B %Y}",
        "time": slot.label,
        "timezone": venue.zone.key,
        "party_size": entry.party_size,
        "offer_url": Links(settings).offer_url(token),
        "expires": f"{venue.local(until):%H:%M}",
        "minutes": max(1, round((until - now).total_seconds() / 60)),
    }
    await outbox.waitlist_offer(
        conn, hold_id=entry.hold_id, recipient=user.email, context=context, now=now
    )


async def _announce_offer(
    conn: Conn, venue: Venue, entry: WaitlistEntry, slot: Slot, hold: placement.Placed,
    *, now: datetime,
) -> None:  # fmt: skip
    """The restaurant's webhooks hear of the offer (waitlist.offered), queued in this
    transaction like the e-mail, in order with the hold's own events (its booking.created
    when confirmed)."""
    local = venue.local(slot.starts_at)
    data = {
        "entry_id": entry.id, "hold_id": hold.booking_id, "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"), "starts_at": local, "party_size": entry.party_size,
        "table_numbers": hold.numbers,
        "expires_at": venue.local(entry.offer_expires_at) if entry.offer_expires_at else None,
    }  # fmt: skip
    await webhooks.emit(conn, "waitlist.offered", data, now=now, booking_id=hold.booking_id)


async def withdraw(
    session: AsyncSession, entry: WaitlistEntry, status: EntryStatus, *, settings: Settings,
    now: datetime,
) -> WaitlistEntry:  # fmt: skip
    """Take an open entry off the list (cancelled by its guest or staff, an offer
    declined, a walk-in seated): an offer's hold is released and its table offered to
    the next entry. EntryClosed when it is no longer open."""
    await lock_day(session, entry.day)
    locked = await reload(session, entry.id)
    if locked is None or locked.status not in OPEN:
        raise EntryClosed(
            f"Waitlist entry {entry.id} is {locked.status.value if locked else 'gone'}"
        )
    offered = locked.status == EntryStatus.offered
    if offered:
        await release_hold(session, locked.hold_id, now)
    locked.status = status
    locked.updated_at = now
    await session.flush()
    if offered:
        await offer_day(session, locked.day, settings=settings, now=now)
    return locked


async def hold_rows(session: AsyncSession, hold_id: int) -> list[tuple[datetime, datetime, int]]:
    """(starts_at, ends_at, table number) of each table of a hold or booking."""
    rows = await session.execute(
        select(Booking.starts_at, Booking.ends_at, RestaurantTable.table_number)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .where(or_(Booking.id == hold_id, Booking.combined_with == hold_id))
    )
    return [(s, e, n) for s, e, n in rows.all()]
