"""The kitchen queue: tickets by station, forward moves (one step back to undo a mistake),
and the events screens follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.kitchen.exceptions import (
    InvalidTransition,
    NothingToUndo,
    PendingTicketAdminOnly,
    ReasonRequired,
    TicketInProgress,
    TicketNotFound,
)
from app.kitchen.models import (
    NEXT_STATUS,
    PREVIOUS_STATUS,
    KitchenEvent,
    KitchenTicket,
    Station,
    TicketStatus,
)
from app.kitchen.schemas import TicketItem, TicketOut
from app.menu.models import MenuItem
from app.orders.models import Order, OrderItem, OrderStatus
from app.venue import service as venue_service

OPEN_STATUSES = (TicketStatus.pending, TicketStatus.preparing, TicketStatus.ready)
# A move forward can be undone this long after it without a reason.
UNDO_WINDOW = timedelta(minutes=1)


def _event(ticket: KitchenTicket, kind: str, now: datetime) -> KitchenEvent:
    payload = TicketOut.model_validate(ticket).model_dump(mode="json")
    return KitchenEvent(ticket_id=ticket.id, type=kind, payload=payload, created_at=now)


async def _stations(session: AsyncSession, items: Sequence[OrderItem]) -> dict[int, Station]:
    """Each order line's station (by order item id), from its dish's menu category."""
    menu_ids = {item.menu_item_id for item in items}
    if not menu_ids:
        return {}
    rows = await session.execute(
        select(MenuItem.id, MenuItem.category).where(MenuItem.id.in_(menu_ids))
    )
    categories: dict[int, str] = {menu_id: category for menu_id, category in rows}
    bar = set((await venue_service.get_settings_row(session)).bar_categories)
    return {
        item.id: Station.bar if categories.get(item.menu_item_id) in bar else Station.kitchen
        for item in items
    }


async def send_tickets(
    session: AsyncSession,
    order: Order,
    items: Sequence[tuple[OrderItem, int]],
    *,
    table_number: int | None,
    now: datetime,
) -> list[KitchenTicket]:
    """Send (item, quantity to cook) pairs as one ticket per station that has something
    to make (the kitchen's first, then the bar's)."""
    wanted = [(item, qty) for item, qty in items if qty > 0]
    stations = await _stations(session, [item for item, _qty in wanted])
    tickets = []
    for station in Station:
        lines = [
            TicketItem(order_item_id=item.id, name=item.name, quantity=qty,
                       seat_number=item.seat_number, notes=item.notes).model_dump()
            for item, qty in wanted
            if stations[item.id] == station
        ]  # fmt: skip
        if not lines:
            continue
        ticket = KitchenTicket(
            order_id=order.id, table_number=table_number, items=lines, station=station,
            status=TicketStatus.pending, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(ticket)
        await session.flush()
        session.add(_event(ticket, "ticket_created", now))
        tickets.append(ticket)
    return tickets


async def queue(
    session: AsyncSession, *, status: TicketStatus | None, station: Station | None = None
) -> Sequence[KitchenTicket]:
    query = select(KitchenTicket)
    if station is not None:
        query = query.where(KitchenTicket.station == station)
    if status is None:
        query = query.where(KitchenTicket.status.in_(OPEN_STATUSES))
    else:
        query = query.where(KitchenTicket.status == status)
    return (await session.scalars(query.order_by(KitchenTicket.created_at, KitchenTicket.id))).all()


async def _locked(session: AsyncSession, ticket_id: int) -> KitchenTicket:
    ticket = await session.get(
        KitchenTicket, ticket_id, with_for_update=True, populate_existing=True
    )
    if ticket is None:
        raise TicketNotFound(f"Kitchen ticket {ticket_id} not found")
    return ticket


async def advance(
    session: AsyncSession, ticket_id: int, new_status: TicketStatus, *, now: datetime
) -> KitchenTicket:
    """Move a ticket one step forward. The row is locked first, so of two cooks making the
    same move at once one wins and the other is told the ticket's new status."""
    ticket = await _locked(session, ticket_id)
    expected = NEXT_STATUS.get(ticket.status)
    if new_status != expected:
        allowed = f"it can only move to {expected.value}" if expected else "it is finished"
        raise InvalidTransition(
            f"Ticket {ticket.id} is {ticket.status.value}; {allowed}",
            current_status=ticket.status.value,
        )
    ticket.status = new_status
    ticket.advanced_at = now
    ticket.updated_at = now
    await session.flush()
    session.add(_event(ticket, "ticket_updated", now))
    return ticket


async def undo(
    session: AsyncSession, ticket_id: int, *, user: User, reason: str | None, now: datetime
) -> KitchenTicket:
    """Move a ticket one step back (a move forward made by mistake). Within UNDO_WINDOW of
    that move no reason is needed; later, or a second step back, needs one. Either way
    the move back, who made it and the reason are recorded in the ticket's event.

    The order is locked before the ticket (the order of locks closing an order takes), so
    a ticket cannot come back to the queue of an order being closed."""
    seen = await session.get(KitchenTicket, ticket_id)
    if seen is None:
        raise TicketNotFound(f"Kitchen ticket {ticket_id} not found")
    order = await session.get(Order, seen.order_id, with_for_update=True, populate_existing=True)
    ticket = await _locked(session, ticket_id)
    back = PREVIOUS_STATUS.get(ticket.status)
    if back is None:
        raise NothingToUndo(
            f"Ticket {ticket.id} is {ticket.status.value}; there is no move to undo",
            current_status=ticket.status.value,
        )
    if order is not None and order.status != OrderStatus.open:
        raise NothingToUndo(
            f"Order {order.id} is {order.status.value}; its tickets cannot move back",
            current_status=ticket.status.value,
        )
    fresh = ticket.advanced_at is not None and now - ticket.advanced_at <= UNDO_WINDOW
    if not fresh and not reason:
        since = (
            f"moved to {ticket.status.value} more than a minute ago"
            if ticket.advanced_at is not None
            else f"is {ticket.status.value} and its last move forward was already undone"
        )
        raise ReasonRequired(
            f"Ticket {ticket.id} {since}; give a `reason` to move it back to {back.value}"
        )
    moved_from = ticket.status
    ticket.status = back
    ticket.advanced_at = None  # a second step back is not "within a minute" of anything
    ticket.updated_at = now
    await session.flush()
    event = _event(ticket, "ticket_updated", now)
    event.payload = {
        **event.payload,
        "moved_back": {
            "from_status": moved_from.value, "to_status": back.value, "reason": reason,
            "by_user_id": user.id, "within_undo_window": fresh,
        },
    }  # fmt: skip
    session.add(event)
    return ticket


async def remove(session: AsyncSession, ticket_id: int, *, user: User, now: datetime) -> None:
    ticket = await _locked(session, ticket_id)
    if ticket.status == TicketStatus.pending and user.role != Role.admin:
        raise PendingTicketAdminOnly()
    if ticket.status in (TicketStatus.preparing, TicketStatus.ready):
        raise TicketInProgress(f"Ticket {ticket.id} is {ticket.status.value}")
    session.add(_event(ticket, "ticket_removed", now))
    await session.delete(ticket)
    await session.flush()


async def unserved(session: AsyncSession, order_id: int) -> list[KitchenTicket]:
    """The order's tickets not yet served (nor cancelled), locked, oldest first."""
    rows = await session.scalars(
        select(KitchenTicket)
        .where(KitchenTicket.order_id == order_id, KitchenTicket.status.in_(OPEN_STATUSES))
        .order_by(KitchenTicket.id)
        .with_for_update()
    )
    return list(rows)


async def cancel_unserved(session: AsyncSession, order_id: int, *, now: datetime) -> None:
    """Cancel every ticket of the order not yet served: pending, being made or ready."""
    for ticket in await unserved(session, order_id):
        ticket.status = TicketStatus.cancelled
        ticket.advanced_at = None
        ticket.updated_at = now
        await session.flush()
        session.add(_event(ticket, "ticket_cancelled", now))
    await session.flush()


async def withdraw(
    session: AsyncSession, order_id: int, reductions: dict[int, int], *, now: datetime
) -> None:
    """Take quantities of order lines (order item id -> how many fewer) off the order's
    tickets that the kitchen has not started, newest first. A ticket left empty is
    cancelled. What is already being cooked stays as it is."""
    left = {item_id: qty for item_id, qty in reductions.items() if qty > 0}
    if not left:
        return
    tickets = await session.scalars(
        select(KitchenTicket)
        .where(KitchenTicket.order_id == order_id, KitchenTicket.status == TicketStatus.pending)
        .order_by(KitchenTicket.id.desc())
        .with_for_update()
    )
    for ticket in tickets:
        lines, changed = [], False
        for line in ticket.items:
            take = min(left.get(line["order_item_id"], 0), line["quantity"])
            if take:
                left[line["order_item_id"]] -= take
                changed = True
            if line["quantity"] - take > 0:
                lines.append({**line, "quantity": line["quantity"] - take})
        if not changed:
            continue
        ticket.items = lines
        ticket.updated_at = now
        if not lines:
            ticket.status = TicketStatus.cancelled
        await session.flush()
        session.add(_event(ticket, "ticket_updated" if lines else "ticket_cancelled", now))
    await session.flush()
