"""Holds (POST /bookings/holds): a slot's tables kept for a few minutes (SLOT_HOLD_MINUTES)
while a guest fills in their details, as partner APIs lock a slot. A hold is a row in
`bookings` with status `held` and `hold_expires_at` (one per table for a combination),
placed exactly as a booking is (app.bookings.placement): under the tables' locks and the
same exclusion constraint, so a hold and a booking never share a table. POST /bookings
with `hold_id` turns it into the booking.

Expiry needs no background job: every read that decides whether a table is free counts
a hold only while `hold_expires_at` is after its `now`, and the next writer onto the
table marks the holds that are over expired (under the table's lock) before inserting,
so the exclusion constraint lets it in. A customer keeps one hold at a time: a new one
releases the previous.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, exists, select, update

from app.auth.models import Principal
from app.bookings import claims, output, placement, rules
from app.bookings import statements as sql
from app.bookings.exceptions import HoldMismatch, HoldNotFound, NoTableAvailable
from app.bookings.models import Booking, BookingRecord, BookingSource, BookingStatus
from app.bookings.schemas import BookingCreate, BookingOut, HoldCreate, HoldOut
from app.db.base import UTCDateTime
from app.db.statements import Conn, Query
from app.floor.models import RestaurantTable
from app.notifications import outbox
from app.venue import service as venue_service
from app.venue.calendar import Venue
from app.waitlist.models import WaitlistEntry

_NOW = bindparam("now", type_=UTCDateTime())
_ID = bindparam("hold_id", type_=Integer())
HOLD = Query(
    select(
        Booking.id, Booking.user_id, Booking.party_size, Booking.starts_at, Booking.ends_at,
        Booking.status, Booking.hold_expires_at, RestaurantTable.id, RestaurantTable.table_number,
    )
    .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
    .where(Booking.id == _ID, Booking.combined_with.is_(None))
    .with_for_update(of=Booking)
)  # fmt: skip
# A user's live holds, released when they take another (the companions follow by
# trigger); not a table the waitlist offers them (app.waitlist.offers), which is theirs
# until it lapses.
_OFFERED = WaitlistEntry.__table__.c
RELEASE_MINE = Query(
    update(Booking)
    .where(
        Booking.user_id == bindparam("holder", type_=Integer()),
        Booking.status == BookingStatus.held.value,
        Booking.combined_with.is_(None),
        ~exists().where(_OFFERED.hold_id == Booking.id, _OFFERED.status == "offered"),
    )
    .values(status=BookingStatus.expired.value, hold_expires_at=None, updated_at=_NOW)
)
RELEASE = Query(
    update(Booking)
    .where(Booking.id == _ID, Booking.status == BookingStatus.held.value)
    .values(status=BookingStatus.expired.value, hold_expires_at=None, updated_at=_NOW)
)
CONFIRM = Query(
    update(Booking)
    .where(Booking.id == _ID, Booking.status == BookingStatus.held.value)
    .values(
        status=BookingStatus.confirmed.value,
        hold_expires_at=None,
        guest_id=bindparam("for_guest", type_=Integer()),
        source=bindparam("new_source", type_=String()),
        special_requests=bindparam("requests", type_=String()),
        pacing_override_reason=bindparam("override", type_=String()),
        created_at=_NOW,
        updated_at=_NOW,
    )
)


async def table_numbers(conn: Conn, booking_id: int, own: int) -> list[int]:
    others = [number for _, number in await conn.fetch(claims.COMPANION_NUMBERS,
                                                        {"booking_id": booking_id})]  # fmt: skip
    return sorted([own, *others])


async def create_hold(
    conn: Conn,
    data: HoldCreate,
    *,
    user: Principal,
    now: datetime,
    minutes: int,
    expires_at: datetime | None = None,
) -> HoldOut:
    """Keep the slot's best-fitting free table (or the one asked for, or a combination)
    for `minutes` (or until `expires_at`): 409 with the nearest free times when taken."""
    from app.bookings import availability

    venue = await venue_service.get_venue(conn)
    slot = venue.resolve(data.date, data.time, data.party_size, now, lead=not user.is_staff)
    if data.table_id is not None:
        table = placement.check_table(
            await sql.table_row(conn, data.table_id), data.table_id, data.party_size
        )
        rules.check_channel(table, staff=user.is_staff)
    if data.combination_id is not None:
        await placement.chosen_combination(conn, data.combination_id, data.party_size)
    if not user.is_staff:
        await conn.execute(RELEASE_MINE, {"holder": user.id, "now": now})
    # A paced-out slot is not held (a hold does not count against pacing itself: its
    # booking does, when confirmed, under the same check).
    await rules.check_pacing(
        conn, venue, data.date, slot, data.party_size, now=now, staff=user.is_staff,
        override=None,
    )  # fmt: skip
    until = expires_at or now + timedelta(minutes=minutes)
    row = placement.Row(
        user_id=user.id, guest_id=None,
        source=(BookingSource.phone if user.is_staff else BookingSource.online).value,
        party_size=data.party_size, special_requests=None, hold_expires_at=until,
    )  # fmt: skip
    placed = await placement.place(
        conn, row, venue=venue, slot=slot, day=data.date, table_id=data.table_id,
        combination_id=data.combination_id, now=now, staff=user.is_staff,
    )  # fmt: skip
    if placed is None:
        alternatives = await availability.alternative_times(
            conn, venue, data.date, data.party_size, slot, now
        )
        raise NoTableAvailable(
            f"Nothing for {data.party_size} is free to hold at {data.date.isoformat()} "
            f"{slot.label}",
            alternatives=alternatives,
        )
    return HoldOut(
        id=placed.booking_id, date=data.date, time=slot.label, party_size=data.party_size,
        starts_at=venue.local(slot.starts_at), ends_at=venue.local(slot.ends_at),
        table_numbers=placed.numbers, expires_at=venue.local(until),
    )  # fmt: skip


async def release(conn: Conn, hold_id: int, *, user: Principal, now: datetime) -> None:
    """Give a hold's tables back (DELETE /bookings/holds/{id}); another's is a 404."""
    found = await conn.fetchrow(HOLD, {"hold_id": hold_id})
    if (
        found is None
        or found[5] != BookingStatus.held
        or (found[1] != user.id and not user.is_staff)
    ):
        raise HoldNotFound()
    await conn.execute(RELEASE, {"hold_id": hold_id, "now": now})


async def confirm(
    conn: Conn, data: BookingCreate, venue: Venue, *, user: Principal, now: datetime,
    region: str, lead: bool | None = None,
) -> BookingOut | None:  # fmt: skip
    """The hold of `data.hold_id` made the booking, in place (its id becomes the
    booking's). None: the hold is over; its tables may still be free, and the caller
    books the same slot the ordinary way. `lead`: whether the lead time applies (by
    default, unless staff confirm; a waitlist offer checked it when it was made)."""
    assert data.hold_id is not None
    found = await conn.fetchrow(HOLD, {"hold_id": data.hold_id})
    if (
        found is None
        or found[1] != user.id
        or found[5] not in (BookingStatus.held, BookingStatus.expired)
    ):
        raise HoldNotFound()
    _, _, party, starts_at, ends_at, status, expires, table_id, number = found
    lead = not user.is_staff if lead is None else lead
    slot = venue.resolve(data.date, data.time, data.party_size, now, lead=lead)
    if (slot.starts_at, data.party_size) != (starts_at, party):
        raise HoldMismatch(
            f"Hold {data.hold_id} is for {party} at {venue.local(starts_at):%Y-%m-%d %H:%M}"
        )
    if status == BookingStatus.expired or expires is None or expires <= now:
        await conn.execute(RELEASE, {"hold_id": data.hold_id, "now": now})
        return None
    override = await rules.check_pacing(
        conn, venue, data.date, slot, party, now=now, staff=user.is_staff,
        override=data.pacing_override_reason,
    )  # fmt: skip
    guest, source = await rules.booking_guest(
        conn, data, venue, slot, user=user, region=region, now=now
    )
    await conn.execute(CONFIRM, {
        "hold_id": data.hold_id, "for_guest": guest.id, "new_source": source.value,
        "requests": data.special_requests, "override": override, "now": now,
    })  # fmt: skip
    booking = BookingRecord(
        id=data.hold_id, user_id=user.id, table_id=table_id, party_size=party,
        starts_at=starts_at, ends_at=ends_at, status=BookingStatus.confirmed,
        special_requests=data.special_requests, created_at=now, guest_id=guest.id,
        source=source, pacing_override_reason=override,
    )  # fmt: skip
    if guest.email:
        await outbox.booking_confirmed(conn, booking, recipient=guest.email, now=now)
    from app import metrics

    metrics.BOOKINGS.labels("made").inc()
    numbers = await table_numbers(conn, data.hold_id, number)
    return output.to_out(booking, number, venue, guest, numbers)
