"""Build what the floor sees: derived status, seats, merges, the booking holding a table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingStatus
from app.floor.models import RestaurantTable, SeatAssignment, TableState
from app.floor.schemas import BookingBrief, GroupView, SeatView, TableView
from app.venue import service as venue_service
from app.venue.calendar import Venue


def holds(booking: Booking, now: datetime, hold: timedelta) -> bool:
    """A confirmed booking holds its table from `hold` before it starts until it is seated,
    marked a no-show, cancelled, or its time is over."""
    return (
        booking.status == BookingStatus.confirmed
        and booking.starts_at <= now + hold
        and booking.ends_at > now
    )


def _brief(booking: Booking, venue: Venue, together: dict[int, list[int]]) -> BookingBrief:
    """A combination's other tables' rows stand for the booking (its id and tables)."""
    booking_id = booking.combined_with or booking.id
    return BookingBrief(
        id=booking_id, starts_at=venue.local(booking.starts_at),
        ends_at=venue.local(booking.ends_at), party_size=booking.party_size,
        status=booking.status.value, table_numbers=together.get(booking_id, []),
    )  # fmt: skip


def _together(upcoming: dict[int, list[Booking]], numbers: dict[int, int]) -> dict[int, list[int]]:
    """Each booking's tables among those read (a combination has several)."""
    out: dict[int, list[int]] = defaultdict(list)
    for bookings in upcoming.values():
        for booking in bookings:
            out[booking.combined_with or booking.id].append(numbers[booking.table_id])
    return {key: sorted(found) for key, found in out.items()}


async def _bookings_today(
    session: AsyncSession, table_ids: list[int], venue: Venue, now: datetime
) -> dict[int, list[Booking]]:
    """Confirmed bookings not yet over that start before the end of the local day (or that
    hold the table now), soonest first, per table."""
    local_now = venue.local(now)
    end_of_day = (local_now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    horizon = max(end_of_day, now + venue.hold)
    rows = await session.scalars(
        select(Booking)
        .where(
            Booking.table_id.in_(table_ids),
            Booking.status == BookingStatus.confirmed,
            Booking.ends_at > now,
            Booking.starts_at < horizon,
        )
        .order_by(Booking.starts_at)
    )
    out: dict[int, list[Booking]] = defaultdict(list)
    for booking in rows:
        out[booking.table_id].append(booking)
    return out


async def describe(
    session: AsyncSession, tables: Sequence[RestaurantTable], now: datetime
) -> list[TableView]:
    if not tables:
        return []
    venue = await venue_service.venue_for(session)
    ids = [t.id for t in tables]
    groups = {t.merge_group for t in tables if t.merge_group is not None}
    mates_query = select(RestaurantTable).where(
        or_(RestaurantTable.id.in_(ids), RestaurantTable.merge_group.in_(groups))
    )
    everyone = {t.id: t for t in await session.scalars(mates_query)}
    by_group: dict[int, list[RestaurantTable]] = defaultdict(list)
    for t in everyone.values():
        if t.merge_group is not None:
            by_group[t.merge_group].append(t)
    seats: dict[int, dict[int, int | None]] = defaultdict(dict)
    for seat in await session.scalars(
        select(SeatAssignment).where(SeatAssignment.table_id.in_(ids))
    ):
        seats[seat.table_id][seat.seat_number] = seat.order_id
    upcoming = await _bookings_today(session, ids, venue, now)
    together = _together(upcoming, {t.id: t.table_number for t in tables})
    return [
        _view(t, by_group, seats[t.id], upcoming.get(t.id, []), venue, now, together)
        for t in tables
    ]


def _view(
    table: RestaurantTable,
    by_group: dict[int, list[RestaurantTable]],
    taken: dict[int, int | None],
    upcoming: list[Booking],
    venue: Venue,
    now: datetime,
    together: dict[int, list[int]],
) -> TableView:
    group = by_group.get(table.merge_group, [table]) if table.merge_group else [table]
    held = next((b for b in upcoming if holds(b, now, venue.hold)), None)
    status = table.state.value
    if table.state == TableState.available and held is not None:
        status = "reserved"
    next_booking = next((b for b in upcoming if b.starts_at >= now), held)
    return TableView(
        id=table.id,
        table_number=table.table_number,
        capacity=table.capacity,
        area=table.area,
        bookable=table.bookable,
        channel=table.channel,
        pos_x=table.pos_x,
        pos_y=table.pos_y,
        width=table.width,
        height=table.height,
        shape=table.shape,
        rotation=table.rotation,
        status=status,
        is_occupied=table.state == TableState.occupied,
        current_order_id=table.current_order_id,
        occupied_since=venue.local(table.occupied_since) if table.occupied_since else None,
        merge_group=table.merge_group,
        merged_with=sorted(t.table_number for t in group if t.id != table.id),
        group_capacity=sum(t.capacity for t in group),
        seats=[
            SeatView(seat_number=n, is_occupied=n in taken, order_id=taken.get(n))
            for n in range(1, table.capacity + 1)
        ],
        held_for_booking=_brief(held, venue, together) if held else None,
        next_booking=_brief(next_booking, venue, together) if next_booking else None,
    )


async def describe_group(
    session: AsyncSession, tables: Sequence[RestaurantTable], now: datetime
) -> GroupView:
    views = await describe(session, sorted(tables, key=lambda t: t.table_number), now)
    statuses = {v.status for v in views}
    return GroupView(
        merge_group=tables[0].merge_group or tables[0].id,
        table_numbers=[v.table_number for v in views],
        capacity=sum(v.capacity for v in views),
        status=statuses.pop() if len(statuses) == 1 else "mixed",
        current_order_id=views[0].current_order_id,
        tables=views,
    )
