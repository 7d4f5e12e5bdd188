"""Bills: lines, service charge and tax from the restaurant's settings, and exact splits.

Every split hands out the bill's total in whole cents in proportion to what each part
ate (equal parts: equal weights), leftover cents one each to the first bills, so the
parts always add up to the total exactly.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.floor import service as floor_service
from app.money import allocate, from_cents, round_money, to_cents
from app.orders import service as orders_service
from app.orders.models import Order, OrderItem
from app.orders.schemas import Bill, BillLine, SplitBill, SplitRequest, SplitResult
from app.venue import service as venue_service

HUNDRED = Decimal(100)
MAX_PARTS = 50


class NoCurrentOrder(Conflict):
    default_message = "The table has no current order to bill"


class InvalidSplit(InvalidInput):
    default_message = "The split does not fit the order"


def charges(
    subtotal: Decimal, service_percent: Decimal, tax_percent: Decimal
) -> tuple[Decimal, Decimal]:
    """The bill's service charge and tax: service = subtotal x service %, tax = (subtotal
    + service) x tax %, each rounded to the cent. The total is subtotal + both."""
    service = round_money(subtotal * service_percent / HUNDRED)
    tax = round_money((subtotal + service) * tax_percent / HUNDRED)
    return service, tax


async def bill_for(session: AsyncSession, order: Order) -> tuple[Bill, list[OrderItem]]:
    venue = await venue_service.venue_for(session)
    # A closed order keeps the percentages it was closed with; an open one uses today's.
    service_percent = order.service_charge_percent
    tax_percent = order.tax_percent
    if service_percent is None or tax_percent is None:
        service_percent, tax_percent = venue.service_charge_percent, venue.tax_percent
    items = await orders_service.items_of(session, order.id)
    subtotal = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    service, tax = charges(subtotal, service_percent, tax_percent)
    bill = Bill(
        order_id=order.id,
        lines=[
            BillLine(
                item_id=i.id,
                name=i.name,
                quantity=i.quantity,
                unit_price=i.unit_price,
                amount=i.unit_price * i.quantity,
                seat_number=i.seat_number,
            )
            for i in items
        ],
        subtotal=subtotal,
        service_charge_percent=service_percent,
        service_charge=service,
        tax_percent=tax_percent,
        tax=tax,
        total=subtotal + service + tax,
    )
    return bill, items


def _cents(item: OrderItem) -> int:
    return to_cents(item.unit_price * item.quantity)


def _equal(items: list[OrderItem], parts: int) -> tuple[list[str], list[list[int]], list[int]]:
    ids = [i.id for i in items]
    return [f"Part {n} of {parts}" for n in range(1, parts + 1)], [ids] * parts, [1] * parts


def _by_seat(items: list[OrderItem]) -> tuple[list[str], list[list[int]], list[int]]:
    seats = sorted({i.seat_number for i in items if i.seat_number is not None})
    if not seats:
        raise InvalidSplit("No item is assigned to a seat; split equally or by items instead")
    shared = [i for i in items if i.seat_number is None]
    shares = allocate(sum(_cents(i) for i in shared), [1] * len(seats))
    labels, groups, weights = [], [], []
    for seat, share in zip(seats, shares, strict=True):
        own = [i for i in items if i.seat_number == seat]
        labels.append(f"Seat {seat}")
        groups.append([i.id for i in own + shared])
        weights.append(sum(_cents(i) for i in own) + share)
    return labels, groups, weights


def _by_items(
    items: list[OrderItem], groups: list[list[int]]
) -> tuple[list[str], list[list[int]], list[int]]:
    by_id = {i.id: i for i in items}
    listed = [item_id for group in groups for item_id in group]
    unknown = sorted(set(listed) - set(by_id))
    twice = sorted(i for i, times in Counter(listed).items() if times > 1)
    missing = sorted(set(by_id) - set(listed))
    problems = []
    if any(not group for group in groups):
        problems.append("a group is empty")
    if unknown:
        problems.append(f"items {unknown} are not on this order")
    if twice:
        problems.append(f"items {twice} are in more than one group")
    if missing:
        problems.append(f"items {missing} are in no group")
    if problems:
        raise InvalidSplit("; ".join(problems))
    labels = [f"Bill {n}" for n in range(1, len(groups) + 1)]
    return labels, groups, [sum(_cents(by_id[i]) for i in group) for group in groups]


async def split_table_bill(
    session: AsyncSession, table_id: int, request: SplitRequest
) -> SplitResult:
    table = await floor_service.get_table(session, table_id)
    if table.current_order_id is None:
        raise NoCurrentOrder(f"Table {table.table_number} has no current order")
    order = await orders_service.get_order(session, table.current_order_id)
    bill, items = await bill_for(session, order)
    if request.mode == "equal":
        parts = request.parts or order.customer_count
        if parts > MAX_PARTS:
            raise InvalidSplit(f"{parts} guests: give `parts` (at most {MAX_PARTS})")
        labels, groups, weights = _equal(items, parts)
    elif request.mode == "by_seat":
        labels, groups, weights = _by_seat(items)
    else:
        labels, groups, weights = _by_items(items, request.groups or [])
    amounts = allocate(to_cents(bill.total), weights)
    return SplitResult(
        order_id=order.id,
        mode=request.mode,
        total=bill.total,
        bills=[
            SplitBill(label=label, items=group, amount=from_cents(cents))
            for label, group, cents in zip(labels, groups, amounts, strict=True)
        ],
    )
