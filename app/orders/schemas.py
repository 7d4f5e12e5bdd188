from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.orders.models import OrderStatus


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table_id: int | None = Field(default=None, description="Seat the order at this table now")
    customer_count: int = Field(default=1, ge=1, le=200)
    special_requests: str | None = Field(default=None, max_length=500)


class OrderOut(BaseModel):
    id: int
    table_id: int | None
    booking_id: int | None
    customer_count: int
    special_requests: str | None
    assigned_seats: list[int]
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
