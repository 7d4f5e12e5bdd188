from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EventRow, UTCDateTime, utcnow


class TicketStatus(enum.StrEnum):
    pending = "pending"
    preparing = "preparing"
    ready = "ready"
    served = "served"
    cancelled = "cancelled"


class Station(enum.StrEnum):
    """Where a ticket is made: the kitchen, or the bar (the menu categories the restaurant
    sends there, `bar_categories` in its settings)."""

    kitchen = "kitchen"
    bar = "bar"


# The only moves a ticket can make: one step forward (and one back, to undo a mistake).
NEXT_STATUS = {
    TicketStatus.pending: TicketStatus.preparing,
    TicketStatus.preparing: TicketStatus.ready,
    TicketStatus.ready: TicketStatus.served,
}
PREVIOUS_STATUS = {after: before for before, after in NEXT_STATUS.items()}


class KitchenTicket(Base):
    """What the kitchen must cook for one send of an order (an order can send several)."""

    __tablename__ = "kitchen_tickets"
    __table_args__ = (Index("ix_kitchen_tickets_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    table_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"order_item_id", "name", "quantity", "seat_number", "notes"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[TicketStatus] = mapped_column(
        Enum(
            TicketStatus, native_enum=False, length=16, create_constraint=True, name="ticket_status"
        ),
        default=TicketStatus.pending,
    )
    station: Mapped[Station] = mapped_column(
        Enum(Station, native_enum=False, length=16, create_constraint=True, name="ticket_station"),
        default=Station.kitchen,
        server_default=Station.kitchen.value,
    )
    # When it last moved forward; cleared when that move is undone. Undoing within a
    # minute of it needs no reason.
    advanced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KitchenEvent(EventRow, Base):
    """Written with each ticket change, in the same transaction; the SSE stream reads it,
    so every web worker's screens see every change, and a reconnect resumes by id."""

    __tablename__ = "kitchen_events"

    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
