"""Orders: a party's record at the table (items, kitchen and bills build on it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.floor import operations as floor_ops
from app.floor.models import RestaurantTable, SeatAssignment
from app.orders.exceptions import OrderNotFound
from app.orders.models import Order, OrderStatus
from app.orders.schemas import OrderCreate, OrderOut


async def get_order(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Order:
    order = await session.get(Order, order_id, with_for_update=for_update)
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found")
    return order


async def create_order(
    session: AsyncSession,
    data: OrderCreate,
    *,
    now: datetime,
    booking_id: int | None = None,
) -> Order:
    order = Order(
        customer_count=data.customer_count, special_requests=data.special_requests,
        status=OrderStatus.open, booking_id=booking_id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(order)
    await session.flush()
    if data.table_id is not None:
        await floor_ops.assign(session, data.table_id, order.id, now=now)
    return order


async def assigned_seats(session: AsyncSession, order: Order) -> list[int]:
    """The order's seats. At merged tables seats are numbered across the group in table
    order (tables 5 (4 seats) + 6: table 6's seat 1 is seat 5), as the bill sees them."""
    rows = (
        await session.execute(
            select(SeatAssignment.seat_number, RestaurantTable)
            .join(RestaurantTable, RestaurantTable.id == SeatAssignment.table_id)
            .where(SeatAssignment.order_id == order.id)
        )
    ).all()
    if not rows:
        return []
    tables = {t.id: t for _n, t in rows}
    groups = {t.merge_group for t in tables.values() if t.merge_group is not None}
    if groups:
        mates = await session.scalars(
            select(RestaurantTable).where(RestaurantTable.merge_group.in_(groups))
        )
        tables.update({t.id: t for t in mates})
    offset, offsets = 0, {}
    for table in sorted(tables.values(), key=lambda t: t.table_number):
        offsets[table.id] = offset
        offset += table.capacity
    return sorted(offsets[t.id] + n for n, t in rows)


async def to_out(session: AsyncSession, order: Order) -> OrderOut:
    return OrderOut(
        id=order.id,
        table_id=order.table_id,
        booking_id=order.booking_id,
        customer_count=order.customer_count,
        special_requests=order.special_requests,
        assigned_seats=await assigned_seats(session, order),
        status=order.status,
        created_at=order.created_at,
        updated_at=order.updated_at,
        closed_at=order.closed_at,
    )
