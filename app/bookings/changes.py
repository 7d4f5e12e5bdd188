"""Changing a booking (PATCH /bookings/{id}, and the manage link's PATCH): a new date,
time, party size, table or special requests, under the rules of a new booking, keeping
the booking's id, in the request's one transaction.

How a change is made safe against a rival booking or change of the same table:
- the booking's row is read with its lock (FOR UPDATE), so two changes of one booking
  queue; then, per candidate table, the table-and-day lock creation takes
  (app.db.locks.table_day_lock; on SQLite the request holds the write lock already);
- then one statement (statements.MOVE_IF_FREE) writes the new values only if no other
  active booking of the table overlaps the new range; the exclusion constraint backs it.
- Candidate tables are locked in the best-fit order creation uses (capacity, number),
  whichever is tried first, so a change and a booking never wait for each other's
  locks in a cycle.

The availability cache learns of a change as of a cancellation: the commit drops this
process's kept days (Database.wrote) and the bookings trigger (migration 0007) NOTIFYs
the old and the new range to the other processes.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.auth.models import User
from app.bookings import availability, claims, fairuse
from app.bookings import statements as sql
from app.bookings.exceptions import (
    BookingNotChangeable,
    NoTableAvailable,
    PacingOverrideForbidden,
    TableNotBookable,
    TableUnavailable,
)
from app.bookings.models import Booking, BookingSource, BookingStatus
from app.bookings.schemas import BookingChange, BookingOut
from app.bookings.service import (
    DEFAULT_REGION,
    check_channel,
    check_pacing,
    guest_out,
    load_booking,
    other_tables,
    to_out,
)
from app.bookings.statements import TableRow
from app.config import Settings
from app.db.locks import table_day_lock
from app.db.statements import Conn, session_conn
from app.floor import combinations
from app.floor.models import TableChannel
from app.guests import service as guests
from app.guests.exceptions import BookingForOthersForbidden
from app.guests.models import Guest
from app.notifications import outbox
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.venue import service as venue_service
from app.venue.calendar import MAX_DURATION, Slot, Venue
from app.waitlist import offers as waitlist_offers


async def booking_recipient(session: AsyncSession, booking: Booking) -> str | None:
    """Who is told about a change of the booking: its guest, if they gave an address."""
    if booking.guest_id is None:
        return None
    email: str | None = await session.scalar(
        select(Guest.email).where(Guest.id == booking.guest_id)
    )
    return email


async def _out(
    session: AsyncSession, booking: Booking, number: int, venue: Venue,
    numbers: list[int] | None = None,
) -> BookingOut:  # fmt: skip
    guest = await session.get(Guest, booking.guest_id) if booking.guest_id else None
    if numbers is None:
        others = (await other_tables(session, [booking.id])).get(booking.id)
        numbers = sorted([number, *others]) if others else [number]
    return to_out(booking, number, venue, guest_out(guest), numbers)


def _best_fit(table: TableRow) -> tuple[int, int]:
    return table.capacity, table.table_number


async def _table_for(conn: Conn, table_id: int, party_size: int, *, staff: bool) -> TableRow:
    """A table asked for by id, if it can take the party (422 otherwise), as creation."""
    table = await sql.table_row(conn, table_id)
    if table is None:
        raise TableNotBookable(f"Table {table_id} does not exist")
    if not table.bookable:
        raise TableNotBookable(f"Table {table.table_number} is not taking bookings")
    check_channel(table, staff=staff)
    if table.capacity < party_size:
        raise TableNotBookable(
            f"Table {table.table_number} seats {table.capacity}, the party is {party_size}"
        )
    return table


async def _alternatives(
    conn: Conn, venue: Venue, booking: Booking, day: date, party_size: int, now: datetime,
    around: datetime, *, staff: bool,
) -> list[str]:  # fmt: skip
    """The nearest free times that day, as POST /bookings gives them, the booking's own
    time counting as free (it would leave it)."""
    plan = await availability.day_plan(conn, venue, day, party_size, now, staff=staff)
    own = plan.busy.get(booking.table_id)
    if own and (booking.starts_at, booking.ends_at) in own:
        own.remove((booking.starts_at, booking.ends_at))
    if booking.starts_at in plan.covers:  # nor do its covers count against the pace
        plan.covers[booking.starts_at] -= booking.party_size
    return plan.alternatives(around, availability.bookable_from(venue, now, staff))


def check_changeable(booking: Booking, venue: Venue, *, staff: bool, now: datetime) -> None:
    """Only a confirmed booking that has not started; a customer not inside the cutoff."""
    if booking.status != BookingStatus.confirmed:
        raise BookingNotChangeable(f"Booking {booking.id} is {booking.status.value}")
    if booking.starts_at <= now:
        raise BookingNotChangeable(f"Booking {booking.id} has already started")
    if not staff and now > booking.starts_at - venue.cancel_cutoff:
        minutes = int(venue.cancel_cutoff.total_seconds() // 60)
        raise BookingNotChangeable(
            f"Bookings can be changed online up to {minutes} minutes before they start; "
            "please call the restaurant"
        )


async def change_loaded(
    session: AsyncSession,
    booking: Booking,
    number: int,
    data: BookingChange,
    *,
    staff: bool,
    now: datetime,
    settings: Settings,
    region: str = DEFAULT_REGION,
) -> BookingOut:
    """Change a booking read with its lock (service.load_booking(for_update=True) or the
    manage link's). `staff` skips the lead time and the cancel cutoff, as for a new
    booking. Nothing written and no e-mail when nothing actually changes. A booking that
    moves leaves its old place to the waitlist of its old date (app.waitlist.offers)."""
    if data.pacing_override_reason is not None and not staff:
        raise PacingOverrideForbidden()
    venue = await venue_service.venue_for(session)
    check_changeable(booking, venue, staff=staff, now=now)
    guest_changed = False
    if data.guest is not None:
        if not staff:
            raise BookingForOthersForbidden("Only staff can change who a booking is for")
        if booking.source == BookingSource.online:
            raise BookingNotChangeable(
                f"Booking {booking.id} is its guest's own (made online): it stays theirs. "
                "Cancel it and book for the other guest instead"
            )
        conn = await session_conn(session)
        guest = await guests.for_details(conn, data.guest, region=region, now=now)
        guest_changed = guest.id != booking.guest_id
        if guest_changed:
            booking.guest_id = guest.id
            booking.updated_at = now
            await session.flush()
            # A reminder still waiting was for the old guest: queued again for the new one
            # when due (e-mails written when sent check their recipient too).
            await _withdraw_reminder(session, booking)
    local = venue.local(booking.starts_at)
    day = data.date if data.date is not None else local.date()
    at = data.time if data.time is not None else time(local.hour, local.minute)
    party = data.party_size if data.party_size is not None else booking.party_size
    fields = data.model_fields_set
    requests = data.special_requests if "special_requests" in fields else booking.special_requests
    moves = (day, at, party) != (local.date(), time(local.hour, local.minute), booking.party_size)
    new_table = data.table_id not in (None, booking.table_id)
    if not moves and not new_table:
        if requests == booking.special_requests and not guest_changed:
            return await _out(session, booking, number, venue)
        booking.special_requests = requests
        booking.updated_at = now
        await session.flush()
        return await _changed(session, booking, number, venue, now=now, moved=False)

    conn = await session_conn(session)
    override: str | None = None
    # The old date's waitlist is locked before any table is (the order offers take).
    left_on = local.date()
    waiting = await waitlist_offers.has_open(session, left_on)
    if waiting:
        await waitlist_offers.lock_day(session, left_on)
    if moves:
        slot = venue.resolve(day, at, party, now, lead=not staff)
        starts, ends = slot.starts_at, slot.ends_at
        if not staff and booking.source == BookingSource.online and booking.user_id:
            # a guest's own bookings still may not overlap (fair use)
            await fairuse.check(conn, booking.user_id, venue, slot, now=now, ignore=booking.id)
        if _adds_covers(venue, booking, day, slot, party):
            override = await check_pacing(
                conn, venue, day, slot, party, now=now, staff=staff,
                override=data.pacing_override_reason, exclude=booking.id,
            )  # fmt: skip
    else:
        starts, ends = booking.starts_at, booking.ends_at
    # A combination's other tables are let go, then taken again if it is still the
    # place the booking goes: a refusal rolls the request back, rows and all.
    await conn.execute(claims.DROP_COMPANIONS, {"booking_id": booking.id})
    if data.table_id is not None:
        tries = [await _table_for(conn, data.table_id, party, staff=staff)]
    else:
        # The booking may keep its own table whatever its channel (but walk_in); another
        # must be one the booker may have.
        current = await sql.table_row(conn, booking.table_id)
        keep = (
            current is not None and current.bookable and current.capacity >= party
            and current.channel != TableChannel.walk_in
        )  # fmt: skip
        others = await sql.free_tables_at(conn, party, starts, ends, now)
        tries = ([current] if keep and current else []) + [
            t for t in others if t.id != booking.table_id and availability.may_book(t, staff)
        ]
    table = await _move(conn, booking, tries, day, party, starts, ends, requests, venue, now)
    numbers: list[int] = []
    if table is None and data.table_id is None:
        onto = await _onto_combination(
            conn, booking, day, party, starts, ends, requests, venue, now, staff=staff
        )
        if onto is not None:
            table, numbers = onto
    if table is None:
        alternatives = await _alternatives(
            conn, venue, booking, day, party, now, starts, staff=staff
        )
        label = f"{day.isoformat()} {at:%H:%M}"
        if data.table_id is not None:
            raise TableUnavailable(
                f"Table {tries[0].table_number} is already booked at {label}",
                alternatives=alternatives,
            )
        raise NoTableAvailable(
            f"No table for {party} is free at {label}", alternatives=alternatives
        )
    await session.refresh(booking)  # written by the statement, behind the ORM's back
    if override is not None:
        booking.pacing_override_reason = override
        await session.flush()
    if waiting:
        await waitlist_offers.offer_day(session, left_on, settings=settings, now=now)
    return await _changed(
        session, booking, table.table_number, venue, now=now, moved=moves, numbers=numbers
    )


def _adds_covers(venue: Venue, booking: Booking, day: date, slot: Slot, party: int) -> bool:
    """Whether the change adds covers to a paced slot interval: a new interval, or more
    guests in the same one (a smaller party, or another time in the same interval, is
    never refused for pacing)."""
    pace = venue.pace_of(day, slot)
    if pace is None:
        return False
    _, start, end = pace
    same_interval = start <= booking.starts_at < end
    return not same_interval or party > booking.party_size


async def _move(
    conn: Conn, booking: Booking, tries: list[TableRow], day: date, party: int,
    starts: datetime, ends: datetime, requests: str | None, venue: Venue, now: datetime,
) -> TableRow | None:  # fmt: skip
    """Try the tables in turn, each under its table-and-day lock: the first that takes
    the booking, or None (nothing written)."""
    order = sorted(tries, key=_best_fit)
    locked: set[int] = set()
    near = starts < now + MAX_DURATION  # a party seated now could still be at the table
    for table in tries:
        for other in order:  # lock in best-fit order up to this table, as creation does
            if other.id not in locked:
                await table_day_lock(conn, other.id, day)
                locked.add(other.id)
            if other.id == table.id:
                break
        if near:  # read the table's state again, now that it is locked
            now_at = await sql.table_row(conn, table.id)
            seated = availability.occupancy([now_at] if now_at else [], venue, now)
            if availability.blocks(seated.get(table.id), starts, ends):
                continue
        try:
            moved = await sql.move_if_free(
                conn, booking_id=booking.id, table_id=table.id, party_size=party,
                starts_at=starts, ends_at=ends, special_requests=requests, now=now,
            )  # fmt: skip
        except IntegrityError as exc:  # the exclusion constraint caught an overlap
            raise TableUnavailable() from exc
        if moved:
            return table
    return None


async def _onto_combination(
    conn: Conn, booking: Booking, day: date, party: int, starts: datetime, ends: datetime,
    requests: str | None, venue: Venue, now: datetime, *, staff: bool,
) -> tuple[TableRow, list[int]] | None:  # fmt: skip
    """When no single table takes the changed booking: the first combination seating the
    party whose tables are all free (the booking's own row aside), under their locks;
    the booking moves to its first table and takes the others. None: none is."""
    for combination in combinations.fitting(await combinations.read_all(conn), party):
        rows = [await sql.table_row(conn, table_id) for table_id in combination.table_ids]
        members = [
            t for t in rows if t is not None and t.bookable and availability.may_book(t, staff)
        ]
        if len(members) != len(rows):
            continue
        for table in sorted(members, key=_best_fit):
            await table_day_lock(conn, table.id, day)
        near = starts < now + MAX_DURATION
        free = True
        for table in members:
            if not await claims.free_but_for(conn, table.id, booking.id, starts, ends, now):
                free = False
            elif near:
                seated = availability.occupancy([table], venue, now)
                free = not availability.blocks(seated.get(table.id), starts, ends)
            if not free:
                break
        if not free:
            continue
        for table in members:
            await claims.expire_holds(conn, table.id, starts, ends, now)
        first, *others = members
        try:
            moved = await sql.move_if_free(
                conn, booking_id=booking.id, table_id=first.id, party_size=party,
                starts_at=starts, ends_at=ends, special_requests=requests, now=now,
            )  # fmt: skip
            for table in others:
                added = moved and await claims.insert_companion_if_free(
                    conn, booking_id=booking.id, table_id=table.id, party_size=party,
                    source=booking.source.value, status=BookingStatus.confirmed.value,
                    hold_expires_at=None, starts_at=starts, ends_at=ends, now=now,
                )  # fmt: skip
                if not added:
                    raise TableUnavailable()  # checked free under the locks: not expected
        except IntegrityError as exc:
            raise TableUnavailable() from exc
        if moved:
            return first, sorted(t.table_number for t in members)
    return None


async def _withdraw_reminder(session: AsyncSession, booking: Booking) -> None:
    """Delete the booking's reminder still waiting: the dispatcher queues it again when
    the (new) time's reminder falls due, to the (new) guest."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == MessageKind.booking_reminder,
            OutboxMessage.status == MessageStatus.pending,
        )
    )


async def _changed(
    session: AsyncSession, booking: Booking, number: int, venue: Venue, *, now: datetime,
    moved: bool, numbers: list[int] | None = None,
) -> BookingOut:  # fmt: skip
    """After a change is written: the reminder still waiting for the old time is
    withdrawn (the dispatcher queues it again when the new time's falls due), and one
    "booking changed" notice is queued."""
    if moved:
        await _withdraw_reminder(session, booking)
    recipient = await booking_recipient(session, booking)
    if recipient is not None:
        conn = await session_conn(session)
        await outbox.booking_changed(conn, booking, recipient=recipient, now=now)
    metrics.BOOKINGS.labels("changed").inc()
    return await _out(session, booking, number, venue, numbers)


async def change_booking(
    session: AsyncSession, booking_id: int, data: BookingChange, *, user: User, now: datetime,
    settings: Settings,
) -> BookingOut:  # fmt: skip
    """PATCH /bookings/{id}: a customer their own booking (another's is a 404), staff any."""
    booking, number = await load_booking(session, booking_id, user, for_update=True)
    return await change_loaded(
        session,
        booking,
        number,
        data,
        staff=user.is_staff,
        now=now,
        settings=settings,
        region=settings.phone_region,
    )
