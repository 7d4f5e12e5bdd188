"""Orders: a party's items at the table, priced by the server, sent to the kitchen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingStatus
from app.floor import operations as floor_ops
from app.floor.models import RestaurantTable, SeatAssignment
from app.kitchen import service as kitchen
from app.menu import service as menu_service
from app.orders import closing
from app.orders.exceptions import OrderNotFound, OrderNotOpen
from app.orders.models import Order, OrderItem, OrderStatus
from app.orders.schemas import OrderCreate, OrderItemIn, OrderItemOut, OrderOut, OrderUpdate

LineKey = tuple[int, int | None, str | None]


def _key(menu_item_id: int, seat_number: int | None, notes: str | None) -> LineKey:
    return (menu_item_id, seat_number, notes or None)


async def get_order(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Order:
    order = await session.get(
        Order, order_id, with_for_update=for_update, populate_existing=for_update
    )
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found")
    return order


async def _open(session: AsyncSession, order_id: int) -> Order:
    order = await get_order(session, order_id, for_update=True)
    if order.status != OrderStatus.open:
        raise OrderNotOpen(f"Order {order.id} is {order.status.value}; it can no longer change")
    return order


async def items_of(session: AsyncSession, order_id: int) -> list[OrderItem]:
    rows = await session.scalars(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
    )
    return list(rows)


async def _table_number(session: AsyncSession, order: Order) -> int | None:
    if order.table_id is None:
        return None
    return await session.scalar(
        select(RestaurantTable.table_number).where(RestaurantTable.id == order.table_id)
    )


async def _add_lines(
    session: AsyncSession,
    order: Order,
    lines: Sequence[OrderItemIn],
    prices: dict[int, Decimal],
) -> list[tuple[OrderItem, int]]:
    """Insert lines priced from the menu now, or at `prices` (by menu item) for dishes the
    order already had, so a later menu change does not alter an open bill."""
    menu = await menu_service.orderable(session, {line.menu_item_id for line in lines})
    added = []
    for line in lines:
        item = menu[line.menu_item_id]
        row = OrderItem(
            order_id=order.id, menu_item_id=item.id, name=item.name,
            unit_price=prices.get(item.id, item.price), quantity=line.quantity,
            seat_number=line.seat_number, notes=line.notes or None, created_at=order.updated_at,
        )  # fmt: skip
        session.add(row)
        added.append((row, line.quantity))
    await session.flush()
    return added


async def create_order(
    session: AsyncSession, data: OrderCreate, *, now: datetime, booking_id: int | None = None
) -> Order:
    order = Order(
        customer_count=data.customer_count, special_requests=data.special_requests,
        status=OrderStatus.open, booking_id=booking_id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(order)
    await session.flush()
    lines = await _add_lines(session, order, data.items, {})
    if data.table_id is not None:
        await floor_ops.assign(session, data.table_id, order.id, now=now)
    await kitchen.send_tickets(
        session, order, lines, table_number=await _table_number(session, order), now=now
    )
    return order


async def update_order(
    session: AsyncSession, order_id: int, data: OrderUpdate, *, now: datetime
) -> Order:
    """Replace the given fields. Lines the order already had keep their id and price;
    what is new (a new line, or a higher quantity) goes to the kitchen on a new ticket,
    and what was taken off comes off the tickets the kitchen has not started."""
    order = await _open(session, order_id)
    if data.customer_count is not None:
        if order.table_id is not None and data.customer_count > order.customer_count:
            # Read, not locked: the floor locks tables before orders, and a table with a
            # party at it cannot shrink (floor.service.update_table).
            group = await floor_ops.group_of(session, order.table_id)
            if any(t.current_order_id == order.id for t in group):  # still seated there
                floor_ops.refuse_if_too_small(group, data.customer_count)
        order.customer_count = data.customer_count
    if "special_requests" in data.model_fields_set:
        order.special_requests = data.special_requests
    order.updated_at = now
    if data.items is None:
        await session.flush()
        return order
    old = await items_of(session, order.id)
    prices = {row.menu_item_id: row.unit_price for row in old}
    # Each new line takes over an old line for the same dish, seat and note (its id and
    # price stay); the rest of the old lines go, and the rest of the new ones are added.
    unmatched: dict[LineKey, list[OrderItem]] = defaultdict(list)
    for row in old:
        unmatched[_key(row.menu_item_id, row.seat_number, row.notes)].append(row)
    fresh: list[OrderItemIn] = []
    to_cook: list[tuple[OrderItem, int]] = []
    fewer: dict[int, int] = {}  # order item id -> how many fewer to cook
    for line in data.items:
        candidates = unmatched[_key(line.menu_item_id, line.seat_number, line.notes)]
        if not candidates:
            fresh.append(line)
            continue
        row = candidates.pop(0)
        if line.quantity > row.quantity:
            to_cook.append((row, line.quantity - row.quantity))
        else:
            fewer[row.id] = row.quantity - line.quantity
        row.quantity = line.quantity
    # More of a dish must still be on the menu; lines kept as they were need not be.
    await menu_service.orderable(session, {row.menu_item_id for row, _extra in to_cook})
    for rows in unmatched.values():
        for row in rows:
            fewer[row.id] = row.quantity
            await session.delete(row)
    await kitchen.withdraw(session, order.id, fewer, now=now)
    await session.flush()
    to_cook += await _add_lines(session, order, fresh, prices)
    await kitchen.send_tickets(
        session, order, to_cook, table_number=await _table_number(session, order), now=now
    )
    return order


async def cancel_order(session: AsyncSession, order_id: int, *, now: datetime) -> Order:
    """Cancel an open order: it leaves its table and its tickets not yet served are
    cancelled (the kitchen stops making them).
    Nobody sat down to eat, so a booking seated with it is confirmed again and let go of
    the order: it can be seated again (with a new one), cancelled or marked a no-show."""
    seen = await get_order(session, order_id)  # its tables are locked before the order
    if seen.table_id is not None:
        await floor_ops.lock_group(session, seen.table_id)
    order = await _open(session, order_id)
    if order.booking_id is not None:
        reseatable = await session.execute(
            update(Booking)
            .where(Booking.id == order.booking_id, Booking.status == BookingStatus.seated)
            .values(status=BookingStatus.confirmed, updated_at=now)
        )
        if reseatable.rowcount:  # type: ignore[attr-defined]
            order.booking_id = None
    if order.table_id is not None:
        await floor_ops.detach(session, order, now=now)
    await kitchen.cancel_unserved(session, order.id, now=now)
    order.status = OrderStatus.cancelled
    order.updated_at = now
    await session.flush()
    return order


async def close_order(
    session: AsyncSession,
    order_id: int,
    *,
    payment_note: str | None,
    cancel_tickets: bool = False,
    now: datetime,
) -> Order:
    """Paid: the order is closed (refused while it has unserved tickets, unless they are
    to be cancelled); the table stays occupied until it is released."""
    order = await _open(session, order_id)
    return await closing.close(
        session, order, payment_note=payment_note, cancel_tickets=cancel_tickets, now=now
    )


async def list_orders(
    session: AsyncSession, *, status: OrderStatus | None, table_id: int | None, limit: int,
    offset: int,
) -> tuple[list[Order], int]:  # fmt: skip
    query = select(Order)
    if status is not None:
        query = query.where(Order.status == status)
    if table_id is not None:
        query = query.where(Order.table_id == table_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def _assigned_seats(session: AsyncSession, order_ids: list[int]) -> dict[int, list[int]]:
    """Each order's seats. At merged tables seats are numbered across the group in table
    order (tables 5 (4 seats) + 6: table 6's seat 1 is seat 5), as the bill sees them."""
    rows = (
        await session.execute(
            select(SeatAssignment.order_id, SeatAssignment.seat_number, RestaurantTable)
            .join(RestaurantTable, RestaurantTable.id == SeatAssignment.table_id)
            .where(SeatAssignment.order_id.in_(order_ids))
        )
    ).all()
    groups = {t.merge_group for _o, _n, t in rows if t.merge_group is not None}
    mates: dict[int, list[RestaurantTable]] = defaultdict(list)
    if groups:
        for table in await session.scalars(
            select(RestaurantTable).where(RestaurantTable.merge_group.in_(groups))
        ):
            mates[table.merge_group or 0].append(table)
    seats: dict[int, list[int]] = defaultdict(list)
    for order_id, number, table in rows:
        if order_id is None:
            continue
        group = mates.get(table.merge_group or 0, [table]) if table.merge_group else [table]
        before = sum(t.capacity for t in group if t.table_number < table.table_number)
        seats[order_id].append(before + number)
    return {order_id: sorted(numbers) for order_id, numbers in seats.items()}


def line_out(item: OrderItem) -> OrderItemOut:
    return OrderItemOut(
        id=item.id, menu_item_id=item.menu_item_id, name=item.name, unit_price=item.unit_price,
        quantity=item.quantity, seat_number=item.seat_number, notes=item.notes,
        amount=item.unit_price * item.quantity,
    )  # fmt: skip


async def to_out_many(session: AsyncSession, orders: Sequence[Order]) -> list[OrderOut]:
    """Orders as the API shows them, with three queries however many orders there are."""
    ids = [o.id for o in orders]
    items: dict[int, list[OrderItem]] = defaultdict(list)
    if ids:
        for item in await session.scalars(
            select(OrderItem).where(OrderItem.order_id.in_(ids)).order_by(OrderItem.id)
        ):
            items[item.order_id].append(item)
    seats = await _assigned_seats(session, ids) if ids else {}
    return [
        OrderOut(
            id=order.id,
            table_id=order.table_id,
            booking_id=order.booking_id,
            customer_count=order.customer_count,
            special_requests=order.special_requests,
            assigned_seats=seats.get(order.id, []),
            status=order.status,
            items=[line_out(i) for i in items[order.id]],
            total=sum((i.unit_price * i.quantity for i in items[order.id]), Decimal("0.00")),
            payment_note=order.payment_note,
            created_at=order.created_at,
            updated_at=order.updated_at,
            closed_at=order.closed_at,
        )
        for order in orders
    ]


async def to_out(session: AsyncSession, order: Order) -> OrderOut:
    return (await to_out_many(session, [order]))[0]
