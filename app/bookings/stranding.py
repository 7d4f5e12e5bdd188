"""Admin changes that would strand bookings: closing a date, shortening or removing a
service, moving the slot grid or the time zone under booked times, retiring a table or
making it smaller than a party booked at it.

A change finds the active bookings it strands (`for_settings`, `for_table`), then
`settle` either refuses it (a 409 listing them; the route raises, so the request's
transaction is rolled back and nothing is written) or, when the admin asked for it
(`cancel_affected=true`), moves each booking whose table can no longer take it to
another fitting table free at the same time (same booking id) and cancels the rest,
queueing one e-mail per guest that says why. A seated party is never cancelled: a change
that would strand one is refused whatever was asked.

Locks, in the floor's one global order (app/floor/operations.py): the edited table (or
the settings row) first, then the stranded booking rows (FOR UPDATE, read and judged
again), then, for each move, the target table's table-and-day lock (the booking
engine's, app/db/locks.py), under which the target is checked free before the booking
moves; on PostgreSQL the exclusion constraint backs that check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.auth.models import User
from app.bookings import availability
from app.bookings import statements as sql
from app.bookings.exceptions import BookingsStranded
from app.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from app.bookings.schemas import AffectedBooking, MovedBooking, StrandOutcome
from app.config import Settings
from app.db.locks import table_day_lock
from app.db.statements import session_conn
from app.floor.models import RestaurantTable, TableChannel
from app.guests.models import Guest
from app.notifications import outbox
from app.venue.calendar import MAX_DURATION, Venue

# Why a booking is stranded (words for its guest), and whether another table at the same
# time would do; None when it is not.
Reason = Callable[[Booking], tuple[str, bool] | None]


@dataclass
class Stranded:
    booking: Booking
    table_number: int
    guest_name: str | None
    reason: str
    movable: bool  # its table is the trouble: another table at the same time would do


_ROWS = (
    select(Booking, RestaurantTable.table_number, func.coalesce(Guest.name, User.name))
    .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
    .outerjoin(Guest, Guest.id == Booking.guest_id)
    .outerjoin(User, User.id == Booking.user_id)
)


async def _find(
    session: AsyncSession, reason: Reason, now: datetime, *where: Any
) -> list[Stranded]:
    """The active, unfinished bookings `reason` finds stranded: read, then the ones found
    locked in id order and judged again as they are now (one may have been cancelled or
    seated meanwhile)."""
    rows = await session.execute(
        _ROWS.where(Booking.status.in_(ACTIVE_STATUSES), Booking.ends_at > now, *where)
    )
    ids = [booking.id for booking, _, _ in rows if reason(booking) is not None]
    if not ids:
        return []
    locked = await session.execute(
        _ROWS.where(Booking.id.in_(ids))
        .order_by(Booking.id)
        .with_for_update(of=Booking)
        .execution_options(populate_existing=True)
    )
    found: dict[int, Stranded] = {}
    for booking, number, name in locked:
        if booking.status not in ACTIVE_STATUSES or booking.ends_at <= now:
            continue
        why = reason(booking)
        if why is None:
            continue
        if booking.combined_with is not None or await _combined(session, booking.id):
            # A combination booking (or one of its other tables): the whole booking is
            # stranded, and never moved table by table (cancelled when asked to).
            booking, number, name = await _whole(session, booking)
            why = (why[0], False)
        found[booking.id] = Stranded(booking, number, name, *why)
    return sorted(found.values(), key=lambda s: (s.booking.starts_at, s.booking.id))


async def _combined(session: AsyncSession, booking_id: int) -> bool:
    found = await session.scalar(
        select(Booking.id).where(Booking.combined_with == booking_id).limit(1)
    )
    return found is not None


async def _whole(session: AsyncSession, booking: Booking) -> Any:
    """The combination booking a row belongs to, locked, with its table number and guest."""
    if booking.combined_with is None:
        return (await session.execute(_ROWS.where(Booking.id == booking.id))).one()
    return (
        await session.execute(
            _ROWS.where(Booking.id == booking.combined_with)
            .with_for_update(of=Booking)
            .execution_options(populate_existing=True)
        )
    ).one()


# -- What strands a booking ------------------------------------------------------------


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def calendar_reason(before: Venue, after: Venue, booking: Booking) -> str | None:
    """Why `after` (the settings as changed) has no place for a booking made under
    `before`, in words for its guest; None if it still fits. A seated party has started:
    only whether the restaurant is open for the rest of its meal counts."""
    started = booking.status == BookingStatus.seated
    booked = before.local(booking.starts_at)
    local = after.local(booking.starts_at)
    if not started and local.replace(tzinfo=None) != booked.replace(tzinfo=None):
        return (
            f"The restaurant's time zone is now {after.zone.key}, which would move your "
            f"booking from {booked:%H:%M} to {local:%H:%M}"
        )
    day, minute = local.date(), local.hour * 60 + local.minute
    if day in after.closed_dates:
        return f"The restaurant is closed on {_day(day)}"
    services = after.services_on(day)
    if not services:
        return f"The restaurant is now closed on {day:%A}s"
    for opens, closes in services:
        if not opens <= minute < closes:
            continue
        if not started and (minute - opens) % after.slot_minutes:
            return (
                f"Bookings are now taken every {after.slot_minutes} minutes from "
                f"{_hhmm(opens)}; {local:%H:%M} is no longer a booking time"
            )
        if booking.ends_at > after.closing(day, closes):
            return (
                f"The restaurant now closes at {_hhmm(closes)} on {day:%A}s, before your "
                f"booking would end ({after.local(booking.ends_at):%H:%M})"
            )
        return None
    hours = ", ".join(f"{_hhmm(o)}-{_hhmm(c)}" for o, c in services)
    return f"The restaurant's hours on {day:%A}s are now {hours}; {local:%H:%M} is outside them"


async def for_settings(
    session: AsyncSession, before: Venue, after: Venue, now: datetime
) -> list[Stranded]:
    """Bookings the settings change strands: fine under `before`, with no place under
    `after`. (One already out of place before is not this change's doing.)"""

    def reason(booking: Booking) -> tuple[str, bool] | None:
        if calendar_reason(before, before, booking) is not None:
            return None
        why = calendar_reason(before, after, booking)
        return None if why is None else (why, False)

    return await _find(session, reason, now)


async def for_table(session: AsyncSession, table: RestaurantTable, now: datetime) -> list[Stranded]:
    """Confirmed bookings the table, as changed (flushed), can no longer take. A party
    seated at it stays: the floor refuses to shrink an occupied table."""

    def reason(booking: Booking) -> tuple[str, bool] | None:
        if booking.table_id != table.id or booking.status != BookingStatus.confirmed:
            return None
        if not table.bookable:
            return f"Table {table.table_number} no longer takes bookings", True
        if table.channel == TableChannel.walk_in:
            return f"Table {table.table_number} is now kept for walk-ins", True
        if booking.party_size > table.capacity:
            return (
                f"Table {table.table_number} now seats {table.capacity}, "
                f"the party is {booking.party_size}"
            ), True
        return None

    return await _find(session, reason, now, Booking.table_id == table.id)


# -- Refuse, or move and cancel --------------------------------------------------------


def _affected(item: Stranded, venue: Venue, reason: str | None = None) -> AffectedBooking:
    local = venue.local(item.booking.starts_at)
    return AffectedBooking(
        id=item.booking.id, date=local.date(), time=f"{local:%H:%M}",
        party_size=item.booking.party_size, status=item.booking.status,
        table_id=item.booking.table_id, table_number=item.table_number,
        guest_name=item.guest_name, reason=reason or item.reason,
    )  # fmt: skip


async def settle(
    session: AsyncSession,
    stranded: Sequence[Stranded],
    *,
    venue: Venue,
    now: datetime,
    handle: bool,
    what: str,
    settings: Settings,
) -> StrandOutcome:
    """Refuse the change (BookingsStranded, 409), or, with `handle`, move or cancel each
    stranded booking. `venue` is the calendar the guests booked under (their times are
    listed in it); `what` names the change in the refusal."""
    outcome = StrandOutcome()
    if not stranded:
        return outcome
    affected = [_affected(item, venue) for item in stranded]
    ids = [item.booking.id for item in stranded]
    seated = [item.booking.id for item in stranded if item.booking.status == BookingStatus.seated]
    if seated:
        raise BookingsStranded(
            f"{what} would strand bookings {seated}, whose parties are seated now; a seated "
            "party is never cancelled, so make the change once they have left. "
            "Nothing was changed",
            affected=affected,
            booking_ids=ids,
        )
    if not handle:
        raise BookingsStranded(
            f"{what} would strand {len(ids)} confirmed booking{'s' * (len(ids) > 1)} {ids}; "
            "nothing was changed. Repeat it with cancel_affected=true to move each to "
            "another table where one is free and cancel the rest (each guest is e-mailed "
            "why)",
            affected=affected,
            booking_ids=ids,
        )
    for item in stranded:
        moved = await _move(session, item, venue, now) if item.movable else None
        if moved is not None:
            outcome.moved.append(moved)
            continue
        note = item.reason
        if item.movable:
            note = (
                f"Your table can no longer be used and no other table for "
                f"{item.booking.party_size} is free at that time"
            )
        outcome.cancelled.append(_affected(item, venue, note))
        await _cancel(session, item, note, now, settings)
    return outcome


async def _clash(session: AsyncSession, table_id: int, booking: Booking) -> bool:
    found = await session.scalar(
        select(Booking.id)
        .where(
            Booking.table_id == table_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < booking.ends_at,
            Booking.starts_at > booking.starts_at - MAX_DURATION,
            Booking.ends_at > booking.starts_at,
            Booking.id != booking.id,
        )
        .limit(1)
    )
    return found is not None


async def _move(
    session: AsyncSession, item: Stranded, venue: Venue, now: datetime
) -> MovedBooking | None:
    """Move the booking to the best-fitting table free for its whole time, as the booking
    engine would pick it; None if there is none."""
    booking = item.booking
    conn = await session_conn(session)
    day = venue.local(booking.starts_at).date()
    near = booking.starts_at < now + MAX_DURATION  # a party seated now could be in the way
    free = await sql.free_tables_at(
        conn, booking.party_size, booking.starts_at, booking.ends_at, now
    )
    for table in free:
        await table_day_lock(conn, table.id, day)
        if await _clash(session, table.id, booking):  # taken since it was read
            continue
        if near:
            current = await sql.table_row(conn, table.id)
            seated = availability.occupancy([current] if current else [], venue, now)
            if availability.blocks(seated.get(table.id), booking.starts_at, booking.ends_at):
                continue
        local = venue.local(booking.starts_at)
        moved = MovedBooking(
            id=booking.id, date=local.date(), time=f"{local:%H:%M}",
            party_size=booking.party_size, guest_name=item.guest_name,
            from_table_id=booking.table_id, from_table_number=item.table_number,
            table_id=table.id, table_number=table.table_number,
        )  # fmt: skip
        booking.table_id = table.id
        booking.updated_at = now
        await session.flush()
        return moved
    return None


async def recipient(session: AsyncSession, booking: Booking) -> Guest | None:
    """Who is told about the restaurant's change to a booking: its guest, if they gave an
    e-mail address."""
    if booking.guest_id is None:
        return None
    guest = await session.get(Guest, booking.guest_id)
    return guest if guest is not None and guest.email else None


async def _cancel(
    session: AsyncSession, item: Stranded, note: str, now: datetime, settings: Settings
) -> None:
    booking = item.booking
    booking.status = BookingStatus.cancelled
    booking.cancelled_at = now
    booking.updated_at = now
    await session.flush()
    guest = await recipient(session, booking)
    if guest is not None:
        await outbox.booking_cancelled(
            session, booking, settings=settings, recipient=guest.email or "", name=guest.name,
            table_number=item.table_number, now=now, by_restaurant=True, note=note,
        )  # fmt: skip
    metrics.BOOKINGS.labels("cancelled").inc()
