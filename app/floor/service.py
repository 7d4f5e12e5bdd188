"""Tables: the inventory admins edit, and which tables a host could seat a party at."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import stranding
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import StrandOutcome
from app.config import Settings
from app.floor import operations, views
from app.floor.exceptions import TableHasBookings, TableNotFound, TableNumberTaken
from app.floor.models import RestaurantTable, TableShape, TableState, default_size
from app.floor.schemas import TableCreate, TableUpdate, TableView
from app.venue import service as venue_service
from app.venue.calendar import MAX_DURATION

# Fields an update may set to null: the position (null takes the table off the plan).
# Any other field given as null is left as it is.
PLACE_OFF = frozenset({"pos_x", "pos_y"})


async def list_tables(session: AsyncSession) -> Sequence[RestaurantTable]:
    return (
        await session.scalars(select(RestaurantTable).order_by(RestaurantTable.table_number))
    ).all()


async def get_table(
    session: AsyncSession, table_id: int, *, for_update: bool = False
) -> RestaurantTable:
    table = await session.get(RestaurantTable, table_id, with_for_update=for_update)
    if table is None:
        raise TableNotFound(f"Table {table_id} not found")
    return table


async def _ensure_number_free(
    session: AsyncSession, number: int, *, except_id: int | None = None
) -> None:
    query = select(RestaurantTable.id).where(RestaurantTable.table_number == number)
    if except_id is not None:
        query = query.where(RestaurantTable.id != except_id)
    if await session.scalar(query) is not None:
        raise TableNumberTaken(f"Table number {number} is already in use")


def _shape_for(width: int, height: int) -> TableShape:
    return TableShape.square if width == height else TableShape.rect


async def create_table(session: AsyncSession, data: TableCreate) -> RestaurantTable:
    """A new table; its footprint, when not given, fits its seats (default_size)."""
    await _ensure_number_free(session, data.table_number)
    fields = data.model_dump()
    default_width, default_height = default_size(data.capacity)
    fields["width"] = data.width or default_width
    fields["height"] = data.height or default_height
    fields["shape"] = data.shape or _shape_for(fields["width"], fields["height"])
    fields["rotation"] = data.rotation or 0
    table = RestaurantTable(**fields)
    session.add(table)
    await session.flush()
    return table


async def _future_bookings(
    session: AsyncSession, table_id: int, now: datetime, *, larger_than: int = 0
) -> list[int]:
    rows = await session.scalars(
        select(Booking.id)
        .where(
            Booking.table_id == table_id,
            Booking.status == BookingStatus.confirmed,
            Booking.ends_at > now,
            Booking.party_size > larger_than,
        )
        .order_by(Booking.starts_at)
    )
    return list(rows)


async def update_table(
    session: AsyncSession,
    table_id: int,
    data: TableUpdate,
    *,
    now: datetime,
    settings: Settings,
    cancel_affected: bool = False,
) -> tuple[RestaurantTable, StrandOutcome]:
    """Change a table. Retiring it (bookable=false) or shrinking it below a confirmed
    booking's party strands that booking: refused (409, listing them) unless
    `cancel_affected`, when each moves to another fitting table free at its time, or is
    cancelled with an e-mail to its guest (app.bookings.stranding)."""
    (table,) = await operations.lock_tables(session, [table_id])
    if data.table_number is not None and data.table_number != table.table_number:
        await _ensure_number_free(session, data.table_number, except_id=table.id)
    if data.capacity is not None and data.capacity < table.capacity:
        if table.current_order_id is not None or table.merge_group is not None:
            # its party, its taken seats or its merged group were counted on the old size
            raise TableHasBookings(
                f"Table {table.table_number} is {table.state.value}"
                f"{' and merged' if table.merge_group is not None else ''}; "
                "release it before shrinking it"
            )
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None or key in PLACE_OFF:
            setattr(table, key, value)
    await session.flush()
    stranded = await stranding.for_table(session, table, now)
    outcome = await stranding.settle(
        session, stranded, venue=await venue_service.venue_for(session), now=now,
        handle=cancel_affected, what=f"Changing table {table.table_number}", settings=settings,
    )  # fmt: skip
    return table, outcome


async def delete_table(session: AsyncSession, table_id: int, *, now: datetime) -> None:
    table = await get_table(session, table_id, for_update=True)
    if table.state != TableState.available or table.merge_group is not None:
        raise TableHasBookings(
            f"Table {table.table_number} is {table.state.value}; release it before removing it"
        )
    blocking = await _future_bookings(session, table.id, now)
    if blocking:
        raise TableHasBookings(
            f"Table {table.table_number} has future confirmed bookings {blocking}; "
            "move or cancel them first",
            booking_ids=blocking,
        )
    if await session.scalar(select(exists().where(Booking.table_id == table.id))):
        raise TableHasBookings(
            f"Table {table.table_number} has booking history; set bookable=false to retire it"
        )
    await session.delete(table)
    await session.flush()


async def available_tables(
    session: AsyncSession, *, party_size: int | None, at: datetime
) -> list[TableView]:
    """Tables a host could seat a party at: not occupied or being cleaned, big enough, not
    held for a booking, and with no booking starting before that party would finish."""
    query = select(RestaurantTable).where(
        RestaurantTable.state == TableState.available, RestaurantTable.merge_group.is_(None)
    )
    if party_size is not None:
        query = query.where(RestaurantTable.capacity >= party_size)
    tables = list(
        await session.scalars(
            query.order_by(RestaurantTable.capacity, RestaurantTable.table_number)
        )
    )
    venue = await venue_service.venue_for(session)
    rows = await session.scalars(
        select(Booking).where(
            Booking.table_id.in_([t.id for t in tables]),
            Booking.status == BookingStatus.confirmed,
            Booking.ends_at > at,
            Booking.starts_at < at + MAX_DURATION,
        )
    )
    first_start: dict[int, datetime] = {}
    for booking in rows:
        current = first_start.get(booking.table_id)
        first_start[booking.table_id] = min(current or booking.starts_at, booking.starts_at)

    def free_long_enough(table: RestaurantTable) -> bool:
        until = at + max(venue.duration_for(party_size or table.capacity), venue.hold)
        return first_start.get(table.id, until) >= until

    described = await views.describe(session, [t for t in tables if free_long_enough(t)], at)
    return [t for t in described if t.status == "available"]
