"""Ending an order: closed when paid, with no kitchen ticket left behind it; and what a
party's leaving does to the order its booking was seated with.

Kept apart from service.py so that the floor (which service.py uses to seat orders) can
close the order of a party that leaves without an import cycle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingStatus
from app.kitchen import service as kitchen
from app.orders.exceptions import SettleBillFirst, UnservedTickets
from app.orders.models import Order, OrderItem, OrderStatus
from app.venue import service as venue_service


async def close(
    session: AsyncSession,
    order: Order,
    *,
    payment_note: str | None,
    cancel_tickets: bool,
    now: datetime,
) -> Order:
    """Close an open order (locked by the caller). Tickets the kitchen or bar has not
    served refuse the close, naming them, unless `cancel_tickets` cancels them: no ticket
    stays in a queue for an order that is over."""
    left = await kitchen.unserved(session, order.id)
    if left and not cancel_tickets:
        named = ", ".join(f"{t.id} ({t.station.value}, {t.status.value})" for t in left)
        raise UnservedTickets(
            f"Order {order.id} has kitchen tickets not yet served: {named}; serve them, "
            "or close with cancel_tickets=true to cancel them",
            ticket_ids=[t.id for t in left],
        )
    await kitchen.cancel_unserved(session, order.id, now=now)
    venue = await venue_service.venue_for(session)
    order.status = OrderStatus.closed
    order.service_charge_percent = venue.service_charge_percent
    order.tax_percent = venue.tax_percent
    order.payment_note = payment_note
    order.closed_at = now
    order.updated_at = now
    await session.flush()
    return order


async def settle_departure(session: AsyncSession, order: Order, *, now: datetime) -> None:
    """A seated booking's party is leaving with this order (locked by the caller). A paid
    (closed) order is done with; an open one with items is refused, "settle the bill
    first"; an open one without items (the one seating opened, never used) is closed, and
    whatever the kitchen still had for it (taken off the order meanwhile) cancelled."""
    if order.status != OrderStatus.open:
        return
    if await session.scalar(select(exists().where(OrderItem.order_id == order.id))):
        raise SettleBillFirst(
            f"Settle the bill first: order {order.id} (booking {order.booking_id}) has "
            "items not paid; close it when paid, then let the party go",
            order_id=order.id,
        )
    await close(session, order, payment_note=None, cancel_tickets=True, now=now)


async def settle_departures(
    session: AsyncSession, order_ids: Iterable[int], *, now: datetime
) -> None:
    """The parties of these orders are leaving: an order a seated booking came with must
    be paid (closed) or empty (then it is closed); one with items not paid is refused
    ("settle the bill first"). Bookings are locked before orders (the global order)."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    seated = list(
        await session.scalars(
            select(Booking.id)
            .where(
                Booking.id.in_(select(Order.booking_id).where(Order.id.in_(ids))),
                Booking.status == BookingStatus.seated,
            )
            .order_by(Booking.id)
            .with_for_update()
        )
    )
    if not seated:
        return
    orders = await session.scalars(
        select(Order)
        .where(Order.booking_id.in_(seated))
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for order in orders:
        await settle_departure(session, order, now=now)
