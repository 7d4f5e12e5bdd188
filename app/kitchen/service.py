"""The kitchen queue: tickets, forward-only status moves, and the events screens follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.kitchen.exceptions import (
    InvalidTransition,
    PendingTicketAdminOnly,
    TicketInProgress,
    TicketNotFound,
)
from app.kitchen.models import NEXT_STATUS, KitchenEvent, KitchenTicket, TicketStatus
from app.kitchen.schemas import TicketItem, TicketOut
from app.orders.models import Order, OrderItem

OPEN_STATUSES = (TicketStatus.pending, TicketStatus.preparing, TicketStatus.ready)


def _event(ticket: KitchenTicket, kind: str, now: datetime) -> KitchenEvent:
    payload = TicketOut.model_validate(ticket).model_dump(mode="json")
    return KitchenEvent(ticket_id=ticket.id, type=kind, payload=payload, created_at=now)


async def send_ticket(
    session: AsyncSession,
    order: Order,
    items: Sequence[tuple[OrderItem, int]],
    *,
    table_number: int | None,
    now: datetime,
) -> KitchenTicket | None:
    """Send (item, quantity to cook) pairs to the kitchen as one ticket."""
    lines = [
        TicketItem(order_item_id=item.id, name=item.name, quantity=qty,
                   seat_number=item.seat_number, notes=item.notes).model_dump()
        for item, qty in items
        if qty > 0
    ]  # fmt: skip
    if not lines:
        return None
    ticket = KitchenTicket(
        order_id=order.id, table_number=table_number, items=lines,
        status=TicketStatus.pending, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(ticket)
    await session.flush()
    session.add(_event(ticket, "ticket_created", now))
    return ticket


async def queue(session: AsyncSession, *, status: TicketStatus | None) -> Sequence[KitchenTicket]:
    query = select(KitchenTicket)
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
    ticket.updated_at = now
    await session.flush()
    session.add(_event(ticket, "ticket_updated", now))
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


async def cancel_pending(session: AsyncSession, order_id: int, *, now: datetime) -> None:
    tickets = await session.scalars(
        select(KitchenTicket)
        .where(KitchenTicket.order_id == order_id, KitchenTicket.status == TicketStatus.pending)
        .with_for_update()
    )
    for ticket in tickets:
        ticket.status = TicketStatus.cancelled
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
