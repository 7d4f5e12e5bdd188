from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.kitchen.models import TicketStatus


class TicketItem(BaseModel):
    order_item_id: int
    name: str
    quantity: int
    seat_number: int | None = None
    notes: str | None = None


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    table_number: int | None
    items: list[TicketItem]
    status: TicketStatus
    created_at: datetime
    updated_at: datetime


class TicketStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus = Field(
        description="The next status: pending → preparing → ready → served"
    )
