"""Front of house meets the reservation: seat a booked party, mark a no-show, finish."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.auth.models import User
from app.bookings.exceptions import BookingNotCancellable
from app.bookings.models import Booking, BookingStatus
from app.bookings.service import load_booking
from app.config import Settings
from app.errors import Conflict
from app.floor import operations as floor_ops
from app.orders import closing
from app.orders import service as orders_service
from app.orders.exceptions import OrderNotOpen
from app.orders.models import Order, OrderStatus
from app.orders.schemas import OrderCreate
from app.venue import service as venue_service
from app.waitlist import offers as waitlist_offers


class BookingStateConflict(Conflict):
    default_message = "The booking is not in a state that allows this"


def _require(booking: Booking, *allowed: BookingStatus) -> None:
    if booking.status not in allowed:
        raise BookingStateConflict(f"Booking {booking.id} is {booking.status.value}")


async def seat(
    session: AsyncSession, booking_id: int, *, staff: User, order_id: int | None, now: datetime
) -> tuple[Booking, Order]:
    seen, _ = await load_booking(session, booking_id, staff)  # tables before rows
    given = await session.get(Order, order_id) if order_id is not None else None
    # A combination's other tables: merged with the booking's own when it is seated.
    others = list(
        await session.scalars(select(Booking.table_id).where(Booking.combined_with == seen.id))
    )
    tables = [seen.table_id, *others] + ([given.table_id] if given and given.table_id else [])
    await floor_ops.lock_groups(session, tables)
    booking, _ = await load_booking(session, booking_id, staff, for_update=True)
    _require(booking, BookingStatus.confirmed)
    if booking.ends_at <= now:
        raise BookingStateConflict(f"Booking {booking.id} is already over")
    venue = await venue_service.venue_for(session)
    if booking.starts_at - venue.hold > now:  # its table is held for it from then on
        opens = venue.local(booking.starts_at - venue.hold)
        raise BookingStateConflict(
            f"Booking {booking.id} starts at {venue.local(booking.starts_at):%Y-%m-%d %H:%M}; "
            f"it can be seated from {opens:%Y-%m-%d %H:%M}"
        )
    if order_id is None:
        order = await orders_service.create_order(
            session, OrderCreate(customer_count=booking.party_size), now=now,
            booking_id=booking.id,
        )  # fmt: skip
    else:
        order = await orders_service.get_order(session, order_id, for_update=True)
        if order.status != OrderStatus.open:
            raise OrderNotOpen(f"Order {order.id} is {order.status.value}")
        if order.booking_id not in (None, booking.id):
            raise BookingStateConflict(f"Order {order.id} belongs to booking {order.booking_id}")
        order.booking_id = booking.id
    for table_id in others:  # a combination: its tables are joined for the party first
        await floor_ops.merge(session, booking.table_id, table_id, now=now, for_booking=booking.id)
    await floor_ops.assign(session, booking.table_id, order.id, now=now, booked=bool(others))
    booking.status = BookingStatus.seated
    metrics.BOOKINGS.labels("seated").inc()
    booking.updated_at = now
    await session.flush()
    return booking, order


async def no_show(
    session: AsyncSession, booking_id: int, *, staff: User, settings: Settings, now: datetime
) -> Booking:
    """The party did not come: its table is free for the rest of the booking, and offered
    to the waitlist (app.waitlist.offers)."""
    booking, _ = await load_booking(session, booking_id, staff, for_update=True)
    _require(booking, BookingStatus.confirmed)
    if booking.starts_at > now:
        raise BookingNotCancellable(f"Booking {booking.id} has not started yet")
    booking.status = BookingStatus.no_show
    metrics.BOOKINGS.labels("no_show").inc()
    booking.updated_at = now
    await session.flush()
    venue = await venue_service.venue_for(session)
    freed_on = venue.local(booking.starts_at).date()
    await waitlist_offers.table_freed(session, freed_on, settings=settings, now=now)
    return booking


async def complete(
    session: AsyncSession, booking_id: int, *, staff: User, now: datetime
) -> Booking:
    """The party has left: the booking is completed and its table released to cleaning.
    Its order must be paid (closed) or empty, and an empty one is closed: otherwise
    "settle the bill first" (closing.settle_departures)."""
    seated = await session.scalar(select(Order.table_id).where(Order.booking_id == booking_id))
    if seated is not None:  # tables before rows
        await floor_ops.lock_group(session, seated)
    booking, _ = await load_booking(session, booking_id, staff, for_update=True)
    _require(booking, BookingStatus.seated)
    order = await session.scalar(select(Order).where(Order.booking_id == booking.id))
    if order is not None:
        await closing.settle_departures(session, [order.id], now=now)
    if order is not None and order.table_id is not None:
        group = await floor_ops.lock_group(session, order.table_id)
        if any(t.current_order_id == order.id for t in group):
            await floor_ops.release(session, order.table_id, clean=False, now=now)
    booking.status = BookingStatus.completed
    metrics.BOOKINGS.labels("completed").inc()
    booking.updated_at = now
    await session.flush()
    return booking
