"""The manager's figures, read from the rows themselves every time they are asked for."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingSource, BookingStatus
from app.errors import InvalidInput
from app.orders.bills import charges
from app.orders.models import Order, OrderItem, OrderStatus
from app.reports.schemas import DayReport
from app.venue import service as venue_service
from app.venue.calendar import Venue

# Days whose bounds every time zone can express (a day at date.min or date.max cannot).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


async def day(session: AsyncSession, on: date | None, *, now: datetime) -> DayReport:
    """The figures of the local day `on` (default: today at the restaurant)."""
    venue = await venue_service.venue_for(session)
    on = on or venue.today(now)
    if not FIRST_DAY <= on <= LAST_DAY:
        raise InvalidInput(f"date: give a day from {FIRST_DAY} to {LAST_DAY}")
    start, end = venue.start_of(on), venue.start_of(on + timedelta(days=1))
    booked = await _bookings(session, start, end)
    seated, walk_ins = await _seated(session, start, end)
    closed, revenue = await _closed_orders(session, start, end, venue)
    kept = [s for s in BookingStatus if s != BookingStatus.cancelled]
    return DayReport(
        date=on,
        timezone=venue.zone.key,
        covers_booked=sum(booked[s][1] for s in kept),
        bookings=sum(booked[s][0] for s in kept),
        seated_covers=seated,
        walk_in_covers=walk_ins,
        no_shows=booked[BookingStatus.no_show][0],
        no_show_covers=booked[BookingStatus.no_show][1],
        cancellations=booked[BookingStatus.cancelled][0],
        orders_closed=closed,
        revenue=revenue,
    )


async def _bookings(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[BookingStatus, tuple[int, int]]:
    """(how many, their guests) of the bookings starting in [start, end), by status."""
    rows = await session.execute(
        select(Booking.status, func.count(), func.coalesce(func.sum(Booking.party_size), 0))
        .where(
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.combined_with.is_(None),  # a combination counts once
        )
        .group_by(Booking.status)
    )
    found: dict[BookingStatus, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for status, count, guests in rows:
        found[BookingStatus(status)] = (int(count), int(guests))
    return found


async def _seated(session: AsyncSession, start: datetime, end: datetime) -> tuple[int, int]:
    """Guests of the orders opened in [start, end) and not cancelled, and of those the
    walk-ins (no booking, or a booking taken as a walk-in)."""
    walk_in = or_(Order.booking_id.is_(None), Booking.source == BookingSource.walk_in)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Order.customer_count), 0),
                func.coalesce(func.sum(Order.customer_count).filter(walk_in), 0),
            )
            .select_from(Order)
            .outerjoin(Booking, Booking.id == Order.booking_id)
            .where(
                Order.status != OrderStatus.cancelled,
                Order.created_at >= start,
                Order.created_at < end,
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def _closed_orders(
    session: AsyncSession, start: datetime, end: datetime, venue: Venue
) -> tuple[int, Decimal]:
    """How many orders were closed in [start, end), and their bills' totals summed: each
    bill as app.orders.bills makes it (service and tax rounded per bill, with the
    percentages it was closed with), from its lines."""
    orders = (
        await session.execute(
            select(Order.id, Order.service_charge_percent, Order.tax_percent).where(
                Order.status == OrderStatus.closed,
                Order.closed_at >= start,
                Order.closed_at < end,
            )
        )
    ).all()
    subtotals: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    lines = await session.execute(
        select(OrderItem.order_id, OrderItem.unit_price, OrderItem.quantity)
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            Order.status == OrderStatus.closed,
            Order.closed_at >= start,
            Order.closed_at < end,
        )
    )
    for order_id, unit_price, quantity in lines:
        subtotals[order_id] += unit_price * quantity
    revenue = Decimal("0.00")
    for order_id, service_percent, tax_percent in orders:
        subtotal = subtotals[order_id]
        service, tax = charges(
            subtotal,
            venue.service_charge_percent if service_percent is None else service_percent,
            venue.tax_percent if tax_percent is None else tax_percent,
        )
        revenue += subtotal + service + tax
    return len(orders), revenue
