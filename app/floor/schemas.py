from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.bookings.schemas import StrandOutcome
from app.deps import IdField
from app.fields import Flag, Number
from app.floor.models import GRID_MAX, SIZE_MAX, TableChannel, TableShape

# Where the floor plan draws a table, in grid units (0 to GRID_MAX across and down).
Coordinate = Annotated[Number, Field(ge=0, le=GRID_MAX)]
Size = Annotated[Number, Field(ge=1, le=SIZE_MAX)]
Rotation = Annotated[Number, Field(ge=0, le=359, description="Degrees clockwise")]
POSITION = "Grid units from the plan's left (x) or top (y) edge, 0 to 1000; null: not placed"
CHANNEL = (
    "Who may book it ahead: `online` (guests and staff), `in_house` (staff only), "
    "`walk_in` (never booked ahead; seated through the floor)"
)
SIZE = "Grid units, 1 to 200; default from the seats (2x2 up to 4, one wider per 2 more)"


class Placement(BaseModel):
    """Where and how the floor plan draws the table. `pos_x` and `pos_y` go together:
    both numbers (placed) or both null (not placed yet)."""

    model_config = ConfigDict(extra="forbid")

    pos_x: Coordinate | None = Field(default=None, description=POSITION)
    pos_y: Coordinate | None = Field(default=None, description=POSITION)
    width: Size | None = Field(default=None, description=SIZE)
    height: Size | None = Field(default=None, description=SIZE)
    shape: TableShape | None = Field(
        default=None, description="round, square or rect; default: square, or rect when "
        "width and height differ",
    )  # fmt: skip
    rotation: Rotation | None = None

    @model_validator(mode="after")
    def _whole_position(self) -> Self:
        given = {name for name in ("pos_x", "pos_y") if name in self.model_fields_set}
        if len(given) == 1:
            raise ValueError(
                "give pos_x and pos_y together (both numbers to place the table, both null "
                "to take it off the plan)"
            )
        if (self.pos_x is None) != (self.pos_y is None):
            raise ValueError("pos_x and pos_y are both numbers or both null")
        return self


class TableCreate(Placement):
    table_number: Number = Field(ge=1, le=10_000)
    capacity: Number = Field(ge=1, le=50)
    area: str = Field(default="main", min_length=1, max_length=40)
    bookable: Flag = True
    channel: TableChannel = Field(default=TableChannel.online, description=CHANNEL)


class TableUpdate(Placement):
    table_number: Number | None = Field(default=None, ge=1, le=10_000)
    capacity: Number | None = Field(default=None, ge=1, le=50)
    area: str | None = Field(default=None, min_length=1, max_length=40)
    bookable: Flag | None = None
    channel: TableChannel | None = Field(default=None, description=CHANNEL)


class TableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    table_number: int
    capacity: int
    area: str
    bookable: bool
    channel: TableChannel = Field(description=CHANNEL)
    pos_x: int | None = Field(description=POSITION)
    pos_y: int | None = Field(description=POSITION)
    width: int
    height: int
    shape: TableShape
    rotation: int


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
    table_numbers: list[int] = Field(
        default_factory=list,
        description="Every table the booking takes: more than one for a combination "
        "(seating it merges them)",
    )


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


class CombinationCreate(BaseModel):
    """Tables one large party may share, and how many they seat together."""

    model_config = ConfigDict(extra="forbid")

    table_ids: list[IdField] = Field(min_length=2, max_length=10)
    capacity: Number = Field(
        ge=2, le=200, description="Seats at the joined tables (often fewer than their sum)"
    )


class CombinationOut(BaseModel):
    id: int
    table_ids: list[int]
    table_numbers: list[int]
    capacity: int
