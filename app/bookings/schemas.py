from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from datetime import time as Time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.bookings.models import BookingSource, BookingStatus
from app.deps import IdField
from app.fields import LocalTime, Number, QueryDate
from app.guests.schemas import GuestIn, GuestOut, GuestSummary
from app.orders.schemas import OrderOut
from app.venue.reasons import ReasonCode


class Reason(BaseModel):
    """Why a slot cannot be booked: a code to act on and a sentence to show."""

    code: ReasonCode = Field(
        description="closed, past, lead_time, beyond_horizon, party_too_large, paced_out, "
        "no_table (or not_a_slot: off the grid)"
    )
    message: str


class TableOption(BaseModel):
    id: int
    table_number: int
    capacity: int
    area: str


class CombinationOption(BaseModel):
    """Tables an admin lets one party share, offered when no single table fits."""

    id: int = Field(description="The combination's id (POST /bookings combination_id)")
    table_ids: list[int]
    table_numbers: list[int]
    capacity: int


class AvailabilityQuery(BaseModel):
    """GET /bookings/availability's query parameters."""

    date: QueryDate = Field(description="Restaurant-local date, YYYY-MM-DD")
    party_size: int = Field(ge=1, le=200)
    time: LocalTime | None = Field(None, description="Restaurant-local time, HH:MM")


class Availability(BaseModel):
    date: Date
    time: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    available_tables: list[TableOption] = Field(
        description="The tables that can be booked, best fit first (none when not bookable)"
    )
    available_combinations: list[CombinationOption] = Field(
        default_factory=list,
        description="Only when no single table fits the party: the free combinations of "
        "tables that do, fewest wasted seats first",
    )
    alternatives: list[str] = Field(
        description="When it cannot be booked: the nearest bookable slot times that day (HH:MM)"
    )
    bookable: bool = Field(description="Whether this slot can be booked now")
    reason: Reason | None = Field(description="Why not, when it cannot be booked")


class DaySlot(BaseModel):
    time: str
    starts_at: datetime
    available_tables: int = Field(
        description="How many places the party could book then: free fitting tables, or "
        "when none is, free combinations of tables (0 when not bookable)"
    )
    bookable: bool
    reason: Reason | None = Field(description="Why it cannot be booked (null when it can)")


class DayAvailability(BaseModel):
    date: Date
    party_size: int
    slots: list[DaySlot]


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: QueryDate = Field(description="Restaurant-local date, YYYY-MM-DD")
    time: LocalTime = Field(description="Restaurant-local time HH:MM, on the slot grid")
    party_size: Number = Field(ge=1, le=200)
    table_id: IdField | None = Field(default=None, description="Leave out to get the best fit")
    combination_id: IdField | None = Field(
        default=None, description="A combination of tables (from availability) instead of one"
    )
    hold_id: IdField | None = Field(
        default=None,
        description="Confirm this hold (POST /bookings/holds): date, time and party size "
        "must be the hold's",
    )
    special_requests: str | None = Field(default=None, max_length=500)
    guest: GuestIn | None = Field(
        default=None,
        description="Staff only: who the booking is for (leave out to book for yourself). "
        "E-mails go to the guest's address.",
    )
    source: Literal["phone", "walk_in"] | None = Field(
        default=None,
        description="Staff only, with `guest`: how the booking came (default phone). A "
        "guest's own booking is always online.",
    )
    pacing_override_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Staff only: book even if the slot's pacing limit of covers is "
        "reached, for this reason (kept on the booking when it was needed). A guest "
        "sending it gets 403",
    )

    @field_validator("time")
    @classmethod
    def _local_time(cls, value: Time) -> Time:
        if value.tzinfo is not None:
            raise ValueError("give the restaurant's local time, without an offset (e.g. 19:00)")
        return value

    @model_validator(mode="after")
    def _source_with_guest(self) -> BookingCreate:
        if self.source is not None and self.guest is None:
            raise ValueError("`source` goes with `guest` (a booking for someone else)")
        if self.table_id is not None and self.combination_id is not None:
            raise ValueError("give a table or a combination of tables, not both")
        return self


class BookingChange(BaseModel):
    """PATCH /bookings/{id}: what to change. A field left out (or null, but for
    special_requests) keeps its value; the same rules as a new booking apply."""

    model_config = ConfigDict(extra="forbid")

    date: QueryDate | None = Field(default=None, description="New restaurant-local date")
    time: LocalTime | None = Field(
        default=None, description="New restaurant-local time HH:MM, on the slot grid"
    )
    party_size: Number | None = Field(default=None, ge=1, le=200)
    table_id: IdField | None = Field(
        default=None,
        description="Move to this table. Left out: the booking keeps its table if it still "
        "fits and is free, else gets the best-fitting free one",
    )
    special_requests: str | None = Field(
        default=None, max_length=500, description="Replaces the requests; null clears them"
    )
    guest: GuestIn | None = Field(
        default=None,
        description="Staff only: who the booking is for (found or made as for a new "
        "booking); the change notice goes to them",
    )
    pacing_override_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Staff only: move it even if the new slot's pacing limit of covers is "
        "reached, for this reason (kept on the booking when it was needed)",
    )

    @field_validator("time")
    @classmethod
    def _local_time(cls, value: Time | None) -> Time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("give the restaurant's local time, without an offset (e.g. 19:00)")
        return value


class BookingOut(BaseModel):
    id: int
    user_id: int | None = Field(description="The account that made the booking")
    guest: GuestOut | None = Field(description="Who it is for (null only for old bookings)")
    source: BookingSource
    table_id: int
    table_number: int
    table_numbers: list[int] = Field(
        description="Every table the booking takes: more than one for a combination"
    )
    party_size: int
    date: Date
    time: str
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    special_requests: str | None
    created_at: datetime
    pacing_override_reason: str | None = Field(
        default=None, description="Why staff booked it past the slot's pacing limit"
    )


class GuestDetail(GuestSummary):
    bookings: list[BookingOut] = Field(description="Their bookings, latest first (up to 100)")


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    limit: int
    offset: int


class NoTableError(BaseModel):
    detail: str
    alternatives: list[str]
    code: ReasonCode | None = Field(
        default=None,
        description="no_table, paced_out (the slot's covers limit is reached), or null "
        "for another conflict",
    )


class ChangeConflictError(BaseModel):
    """A change refused: the booking cannot be changed (any more), or the new time or
    table is taken (then with `alternatives`)."""

    detail: str
    alternatives: list[str] | None = Field(
        default=None, description="When the new time or table is taken: nearby free times"
    )


class SeatBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: IdField | None = Field(
        default=None, description="Attach this open order; leave out to open a new one"
    )


class SeatedBooking(BaseModel):
    booking: BookingOut
    order: OrderOut


class AffectedBooking(BaseModel):
    """A booking an admin's change would strand (or did: a cancelled one)."""

    id: int
    date: Date = Field(description="Restaurant-local date, as the guest booked it")
    time: str = Field(description="Restaurant-local time HH:MM, as the guest booked it")
    party_size: int
    status: BookingStatus
    table_id: int
    table_number: int
    guest_name: str | None
    reason: str = Field(description="Why the change strands it, in words for the guest")


class MovedBooking(BaseModel):
    """A booking moved to another table at the same time (same id)."""

    id: int
    date: Date
    time: str
    party_size: int
    guest_name: str | None
    from_table_id: int
    from_table_number: int
    table_id: int
    table_number: int


class StrandOutcome(BaseModel):
    """What an admin's change did to the bookings that depended on what it changed
    (`cancel_affected=true`): both empty when it stranded nothing."""

    moved: list[MovedBooking] = Field(
        default_factory=list, description="Moved to another fitting table at the same time"
    )
    cancelled: list[AffectedBooking] = Field(
        default_factory=list, description="Cancelled, each guest e-mailed the reason"
    )


class StrandedError(BaseModel):
    """A 409 from a change that would strand bookings (`affected`; nothing was changed:
    repeat with `cancel_affected=true`, unless a seated party is among them), or another
    conflict (only `detail`)."""

    detail: str
    affected: list[AffectedBooking] = []
    booking_ids: list[int] = []


class ManageLink(BaseModel):
    """The link a booking's guest keeps to see, change or cancel it without signing in
    (the one its e-mails carry)."""

    url: str = Field(
        description="{PUBLIC_BASE_URL}/manage/{token}: the web app's page for the booking",
        examples=["https://book.my-restaurant.example/manage/eyJhbGciOi..."],
    )
    token: str = Field(description="The token alone, for /bookings/manage/{token}")


class HoldCreate(BaseModel):
    """POST /bookings/holds: the slot to keep while the guest fills in their details."""

    model_config = ConfigDict(extra="forbid")

    date: QueryDate = Field(description="Restaurant-local date, YYYY-MM-DD")
    time: LocalTime = Field(description="Restaurant-local time HH:MM, on the slot grid")
    party_size: Number = Field(ge=1, le=200)
    table_id: IdField | None = Field(default=None, description="Leave out to get the best fit")
    combination_id: IdField | None = Field(default=None, description="A combination instead")

    @field_validator("time")
    @classmethod
    def _local_time(cls, value: Time) -> Time:
        if value.tzinfo is not None:
            raise ValueError("give the restaurant's local time, without an offset (e.g. 19:00)")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> HoldCreate:
        if self.table_id is not None and self.combination_id is not None:
            raise ValueError("give a table or a combination of tables, not both")
        return self


class HoldOut(BaseModel):
    id: int = Field(description="Give it as hold_id to POST /bookings to book it")
    date: Date
    time: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    table_numbers: list[int]
    expires_at: datetime = Field(description="The tables are free again from this instant")
