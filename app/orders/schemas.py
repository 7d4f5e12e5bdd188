from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.deps import IdField
from app.fields import Flag, Number
from app.money import Money
from app.orders.models import OrderStatus


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    menu_item_id: IdField
    quantity: Number = Field(default=1, ge=1, le=99)
    seat_number: Number | None = Field(default=None, ge=1, le=200)
    notes: str | None = Field(default=None, max_length=200)


class OrderCreate(BaseModel):
    """A client-sent `total` (or any other unknown field) is ignored: the server prices."""

    model_config = ConfigDict(extra="ignore")

    table_id: IdField | None = Field(default=None, description="Seat the order at this table now")
    customer_count: Number = Field(default=1, ge=1, le=200)
    special_requests: str | None = Field(default=None, max_length=500)
    items: list[OrderItemIn] = Field(default_factory=list, max_length=200)


class OrderUpdate(BaseModel):
    """Replaces what is given: `items` replaces the whole list (new lines go to the kitchen)."""

    model_config = ConfigDict(extra="ignore")

    customer_count: Number | None = Field(default=None, ge=1, le=200)
    special_requests: str | None = Field(default=None, max_length=500)
    items: list[OrderItemIn] | None = Field(default=None, max_length=200)


class OrderClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_note: str | None = Field(default=None, max_length=200)
    cancel_tickets: Flag = Field(
        default=False,
        description="Cancel the order's kitchen tickets not yet served; without it an "
        "order with such tickets is not closed (409 naming them)",
    )


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    menu_item_id: int
    name: str
    unit_price: Money
    quantity: int
    seat_number: int | None
    notes: str | None
    amount: Money


class OrderOut(BaseModel):
    id: int
    table_id: int | None
    booking_id: int | None
    customer_count: int
    special_requests: str | None
    assigned_seats: list[int]
    status: OrderStatus
    items: list[OrderItemOut]
    total: Money = Field(description="Sum of the lines, before service charge and tax")
    payment_note: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class BillLine(BaseModel):
    item_id: int
    name: str
    quantity: int
    unit_price: Money
    amount: Money
    seat_number: int | None


class Bill(BaseModel):
    order_id: int
    lines: list[BillLine]
    subtotal: Money
    service_charge_percent: Money
    service_charge: Money
    tax_percent: Money
    tax: Money
    total: Money


class SplitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["equal", "by_seat", "by_items"] = "equal"
    parts: Number | None = Field(
        default=None, ge=1, le=50, description="equal mode; default: guests"
    )
    groups: list[list[IdField]] | None = Field(
        default=None, description="by_items mode: order item ids, one list per bill"
    )

    @model_validator(mode="after")
    def _groups_for_by_items(self) -> SplitRequest:
        if self.mode == "by_items" and not self.groups:
            raise ValueError("by_items needs `groups`: a list of order item id lists")
        if self.groups is not None and len(self.groups) > 50:
            raise ValueError("at most 50 groups")
        return self


class SplitBill(BaseModel):
    label: str
    items: list[int] = Field(description="Order item ids on this bill")
    amount: Money


class SplitResult(BaseModel):
    order_id: int
    mode: str
    total: Money
    bills: list[SplitBill]
