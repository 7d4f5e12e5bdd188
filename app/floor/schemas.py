from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.bookings.schemas import StrandOutcome
from app.deps import IdField
from app.fields import Flag, Number


class TableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table_number: Number = Field(ge=1, le=10_000)
    capacity: Number = Field(ge=1, le=50)
    area: str = Field(default="main", min_length=1, max_length=40)
    bookable: Flag = True


class TableUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table_number: Number | None = Field(default=None, ge=1, le=10_000)
    capacity: Number | None = Field(default=None, ge=1, le=50)
    area: str | None = Field(default=None, min_length=1, max_length=40)
    bookable: Flag | None = None


class TableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    table_number: int
    capacity: int
    area: str
    bookable: bool


class SeatView(BaseModel):
    seat_number: int
    is_occupied: bool
    order_id: int | None


class BookingBrief(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime
    party_size: int
    status: str


class TableView(TableOut):
    """A table as the floor sees it. `status` is derived: `reserved` comes from bookings."""

    status: Literal["available", "occupied", "reserved", "cleaning"]
    is_occupied: bool
    current_order_id: int | None
    occupied_since: datetime | None
    merge_group: int | None
    merged_with: list[int] = Field(description="Table numbers merged with this one")
    group_capacity: int
    seats: list[SeatView]
    held_for_booking: BookingBrief | None = Field(
        description="The booking that makes the table `reserved`, if any"
    )
    next_booking: BookingBrief | None = Field(description="The next booking on it today")


class TableChanged(TableView, StrandOutcome):
    """The table as changed, and what became of the bookings the change stranded (none
    unless `cancel_affected=true` was asked)."""


class GroupView(BaseModel):
    merge_group: int
    table_numbers: list[int]
    capacity: int
    status: str
    current_order_id: int | None
    tables: list[TableView]


class SeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: IdField | None = Field(default=None, description="The order the seat belongs to")
