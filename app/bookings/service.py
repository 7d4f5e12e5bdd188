"""The booking rules: create (never double-booked, idempotent on request), list, read,
cancel. Availability is app.bookings.availability; the hot statements both use are
app.bookings.statements."""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.auth.exceptions import AccountInactive
from app.auth.models import Principal, User
from app.bookings import availability, holds, placement
from app.bookings import statements as sql
from app.bookings.cache import ChangePublisher
from app.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    IdempotencyKeyReused,
    NoTableAvailable,
    PacingOverrideForbidden,
    TableUnavailable,
)
from app.bookings.models import Booking, BookingRecord, BookingSource, BookingStatus
from app.bookings.output import guest_out as guest_out
from app.bookings.output import numbers as numbers
from app.bookings.output import other_tables as other_tables
from app.bookings.output import to_out as to_out
from app.bookings.rules import booking_guest as booking_guest
from app.bookings.rules import check_channel as check_channel
from app.bookings.rules import check_pacing as check_pacing
from app.bookings.schemas import BookingCreate, BookingOut
from app.config import Settings
from app.db.engine import Database
from app.db.locks import LockSpace, advisory_xact_lock
from app.db.statements import Conn
from app.floor.models import RestaurantTable
from app.guests.models import Guest
from app.guests.schemas import GuestOut
from app.notifications import outbox
from app.venue import service as venue_service
from app.venue.calendar import MAX_DURATION, BookingRuleViolation
from app.venue.reasons import ReasonCode
from app.waitlist import offers as waitlist_offers

IDEMPOTENCY_TTL = timedelta(hours=24)
# PHONE_REGION's default, for callers without settings; routes pass the setting.
DEFAULT_REGION: str = Settings.model_fields["phone_region"].default


async def create_booking(
    conn: Conn,
    data: BookingCreate,
    *,
    user: Principal,
    now: datetime,
    region: str = DEFAULT_REGION,
) -> BookingOut:
    """Check and insert under per-table locks, so two requests can never both win a
    table (app.bookings.placement). With `hold_id`, confirm that hold instead
    (app.bookings.holds.confirm).

    PostgreSQL: pg_advisory_xact_lock on each table and date, then one statement per
    table that inserts only if nothing overlaps; the exclusion constraint backs it up.
    SQLite: the request's transaction began with BEGIN IMMEDIATE, so it all runs under
    the write lock.
    """
    if data.pacing_override_reason is not None and not user.is_staff:
        raise PacingOverrideForbidden()
    venue = await venue_service.get_venue(conn)
    if data.hold_id is not None:
        confirmed = await holds.confirm(conn, data, venue, user=user, now=now, region=region)
        if confirmed is not None:
            return confirmed
        data = data.model_copy(update={"hold_id": None})  # expired: book it if still free
    slot = venue.resolve(data.date, data.time, data.party_size, now, lead=not user.is_staff)
    if data.table_id is not None:  # a missing or unfitting table is a 422 before anything
        table = placement.check_table(
            await sql.table_row(conn, data.table_id), data.table_id, data.party_size
        )
        check_channel(table, staff=user.is_staff)
    if data.combination_id is not None:
        await placement.chosen_combination(conn, data.combination_id, data.party_size)
    guest, source = await booking_guest(conn, data, venue, slot, user=user, region=region, now=now)
    override = await check_pacing(
        conn, venue, data.date, slot, data.party_size, now=now, staff=user.is_staff,
        override=data.pacing_override_reason,
    )  # fmt: skip
    row = placement.Row(
        user_id=user.id, guest_id=guest.id, source=source.value, party_size=data.party_size,
        special_requests=data.special_requests, pacing_override_reason=override,
    )  # fmt: skip
    placed = await placement.place(
        conn, row, venue=venue, slot=slot, day=data.date, table_id=data.table_id,
        combination_id=data.combination_id, now=now, staff=user.is_staff,
    )  # fmt: skip
    if placed is not None:
        booking = BookingRecord(
            id=placed.booking_id, user_id=user.id, table_id=placed.tables[0].id,
            party_size=data.party_size, starts_at=slot.starts_at, ends_at=slot.ends_at,
            status=BookingStatus.confirmed, special_requests=data.special_requests,
            created_at=now, guest_id=guest.id, source=source, pacing_override_reason=override,
        )  # fmt: skip
        if guest.email:
            await outbox.booking_confirmed(conn, booking, recipient=guest.email, now=now)
        metrics.BOOKINGS.labels("made").inc()  # not a replayed Idempotency-Key answer
        return to_out(booking, placed.tables[0].table_number, venue, guest, placed.numbers)
    alternatives = await availability.alternative_times(
        conn, venue, data.date, data.party_size, slot, now, staff=user.is_staff
    )
    if data.table_id is not None:
        asked = await sql.table_row(conn, data.table_id)
        number = asked.table_number if asked else data.table_id
        raise TableUnavailable(
            f"Table {number} is already booked at {slot.label}", alternatives=alternatives,
            code=ReasonCode.no_table.value,
        )  # fmt: skip
    if data.combination_id is not None:
        raise TableUnavailable(
            f"Those tables are already booked at {slot.label}", alternatives=alternatives,
            code=ReasonCode.no_table.value,
        )  # fmt: skip
    raise NoTableAvailable(
        f"No table for {data.party_size} is free at {data.date.isoformat()} {slot.label}",
        alternatives=alternatives, code=ReasonCode.no_table.value,
    )  # fmt: skip


async def book_at_once(
    conn: Conn, data: BookingCreate, *, user_id: int, now: datetime
) -> BookingOut | None:
    """PostgreSQL, a booking at least MAX_DURATION (and the lead time) ahead: check the
    account, pick and lock the table, insert the booking and queue its confirmation in
    one statement, its own transaction (book_table, migrations 0009 and 0011): one
    round trip.

    None whenever that does not simply succeed (a rule broken, an inactive account, no
    free table, a race lost to the exclusion constraint): nothing was written, and the
    caller takes the full path (create_booking), which decides and says why. A slot
    that close is left to the full path too: it must also see who is seated now."""
    if conn.dialect_name != "postgresql" or data.guest is not None:
        return None
    if data.hold_id is not None or data.combination_id is not None:
        return None
    if data.pacing_override_reason is not None:
        return None  # the full path refuses it to a guest
    venue = await venue_service.get_venue(conn)
    try:
        slot = venue.resolve(data.date, data.time, data.party_size, now)
    except BookingRuleViolation:
        return None  # the full path checks the account first, then says what is wrong
    if slot.starts_at < now + MAX_DURATION:
        return None
    if venue.paces and venue.pace_of(data.date, slot) is not None:
        return None  # pacing counts across tables: the full path, under the slot's lock
    try:
        params = sql.book_table_params(
            user_id=user_id, slot=slot, day=data.date, party_size=data.party_size,
            table_id=data.table_id, special_requests=data.special_requests, now=now,
            max_active=venue.max_active_bookings,
        )  # fmt: skip
        row = await conn.fetchrow(sql.BOOK_TABLE, params)
    except IntegrityError:
        return None
    if row is None:
        return None
    booking_id, table_id, table_number, guest_id, name, phone, email = row
    booking = BookingRecord(
        id=booking_id, user_id=user_id, table_id=table_id, party_size=data.party_size,
        starts_at=slot.starts_at, ends_at=slot.ends_at, status=BookingStatus.confirmed,
        special_requests=data.special_requests, created_at=now, guest_id=guest_id,
        source=BookingSource.online,
    )  # fmt: skip
    guest = GuestOut(id=guest_id, name=name, phone=phone, email=email)
    return to_out(booking, table_number, venue, guest)


async def load_principal(conn: Conn, user_id: int) -> Principal:
    """The signed-in user (of a valid token), or 401 if the account is gone or inactive."""
    row = await conn.fetchrow(sql.PRINCIPAL, {"id": user_id})
    if row is None or not row[4]:
        raise AccountInactive()
    return Principal(*row)


async def book(
    database: Database,
    data: BookingCreate,
    *,
    user_id: int,
    now: datetime,
    key: str | None,
    changes: ChangePublisher | None = None,
    region: str = DEFAULT_REGION,
) -> BookingOut:
    """POST /bookings: in one statement when it can (book_at_once; PostgreSQL, where
    `changes` announces it to the other processes), else in one transaction that reads
    the account, then books (create_booking_idempotent)."""
    if key is None and changes is not None:
        async with database.connect(write=False) as conn:
            booking = await book_at_once(conn, data, user_id=user_id, now=now)
        if booking is not None:
            database.wrote()
            changes.changed(booking.starts_at, booking.ends_at)
            metrics.BOOKINGS.labels("made").inc()
            return booking
    async with database.connect(write=True) as conn:
        user = await load_principal(conn, user_id)
        return await create_booking_idempotent(
            conn, data, user=user, now=now, key=key, region=region
        )


def _request_hash(data: BookingCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_booking_idempotent(
    conn: Conn,
    data: BookingCreate,
    *,
    user: Principal,
    now: datetime,
    key: str | None,
    region: str = DEFAULT_REGION,
) -> BookingOut:
    """With an Idempotency-Key, the first successful answer is replayed for 24 hours."""
    if key is None:
        return await create_booking(conn, data, user=user, now=now, region=region)
    await advisory_xact_lock(conn, LockSpace.IDEMPOTENCY, zlib.crc32(f"{user.id}:{key}".encode()))
    digest = _request_hash(data)
    which = {"user_id": user.id, "key": key}
    record = await conn.fetchrow(sql.FIND_KEY, which)
    if record is not None:
        request_hash, response, created_at = record
        if created_at > now - IDEMPOTENCY_TTL:
            if request_hash != digest:
                raise IdempotencyKeyReused()
            return BookingOut.model_validate(response)
        await conn.execute(sql.DROP_KEY, which)
    out = await create_booking(conn, data, user=user, now=now, region=region)
    await conn.execute(sql.SAVE_KEY, {
        **which, "request_hash": digest, "status_code": 201,
        "response": out.model_dump(mode="json"), "created_at": now,
    })  # fmt: skip
    return out


async def find_booking(
    session: AsyncSession, booking_id: int, *, for_update: bool = False
) -> tuple[Booking, int] | None:
    """The booking and its table's number, whoever asks (callers check who may see it)."""
    query = (
        select(Booking, RestaurantTable.table_number)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .where(Booking.id == booking_id)
    )
    if for_update:  # read again, locked, even if this session has read it before
        query = query.with_for_update(of=Booking).execution_options(populate_existing=True)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def load_booking(
    session: AsyncSession, booking_id: int, user: User, *, for_update: bool = False
) -> tuple[Booking, int]:
    found = await find_booking(session, booking_id, for_update=for_update)
    # Someone else's booking is "not found", so ids reveal nothing; a combination's
    # other tables' rows and holds are not bookings.
    if (
        found is None
        or (not user.is_staff and found[0].user_id != user.id)
        or found[0].combined_with is not None
        or found[0].status in (BookingStatus.held, BookingStatus.expired)
    ):
        raise BookingNotFound()
    return found


async def get_booking(session: AsyncSession, booking_id: int, *, user: User) -> BookingOut:
    booking, number = await load_booking(session, booking_id, user)
    guest = await session.get(Guest, booking.guest_id) if booking.guest_id else None
    others = (await other_tables(session, [booking.id])).get(booking.id)
    venue = await venue_service.venue_for(session)
    return to_out(booking, number, venue, guest_out(guest), numbers(number, others))


async def cancel_booking(
    session: AsyncSession, booking_id: int, *, user: User, settings: Settings, now: datetime
) -> Booking:
    booking, number = await load_booking(session, booking_id, user, for_update=True)
    return await cancel_loaded(session, booking, number, actor=user, settings=settings, now=now)


async def cancel_loaded(
    session: AsyncSession,
    booking: Booking,
    number: int,
    *,
    actor: User | None,
    settings: Settings,
    now: datetime,
) -> Booking:
    """Cancel a booking read with its lock. `actor`: who cancels; None is the guest
    through the booking's manage link (a customer's rules)."""
    staff = actor is not None and actor.is_staff
    if booking.status != BookingStatus.confirmed:
        raise BookingNotCancellable(f"Booking {booking.id} is {booking.status.value}")
    if booking.starts_at <= now:
        raise BookingNotCancellable(f"Booking {booking.id} has already started")
    venue = await venue_service.venue_for(session)
    if not staff and now > booking.starts_at - venue.cancel_cutoff:
        minutes = int(venue.cancel_cutoff.total_seconds() // 60)
        raise BookingNotCancellable(
            f"Bookings can be cancelled online up to {minutes} minutes before they start; "
            "please call the restaurant"
        )
    booking.status = BookingStatus.cancelled
    booking.cancelled_at = now
    booking.updated_at = now
    await session.flush()
    freed_on = venue.local(booking.starts_at).date()
    await waitlist_offers.table_freed(session, freed_on, settings=settings, now=now)
    guest = await session.get(Guest, booking.guest_id) if booking.guest_id else None
    if guest is not None and guest.email:
        await outbox.booking_cancelled(
            session, booking, settings=settings, recipient=guest.email, name=guest.name,
            table_number=number, now=now,
            by_restaurant=actor is not None and actor.is_staff and guest.user_id != actor.id,
        )  # fmt: skip
    metrics.BOOKINGS.labels("cancelled").inc()
    return booking
