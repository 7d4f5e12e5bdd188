from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.kitchen.models import Station, TicketStatus


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
    station: Station
    created_at: datetime
    updated_at: datetime


class TicketStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus = Field(
        description="The next status: pending → preparing → ready → served"
    )


class TicketUndo(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Why the ticket moves back; needed more than a minute after its move",
        examples=["Marked ready by mistake: the sauce is not on yet"],
    )
