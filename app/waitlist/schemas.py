from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from datetime import time as Time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.fields import LocalTime, Number, QueryDate
from app.guests.schemas import GuestIn
from app.waitlist.models import EntryKind, EntryStatus


class WaitlistJoin(BaseModel):
    """POST /waitlist: wait for a table for `party_size` starting between `from` and `to`
    (restaurant-local times, both on the slot grid's day) on `date`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date: QueryDate = Field(description="Restaurant-local date, YYYY-MM-DD")
    earliest: LocalTime = Field(alias="from", description="Earliest start, HH:MM (local)")
    latest: LocalTime = Field(alias="to", description="Latest start, HH:MM (local)")
    party_size: Number = Field(ge=1, le=200)

    @field_validator("earliest", "latest")
    @classmethod
    def _local_time(cls, value: Time) -> Time:
        if value.tzinfo is not None:
            raise ValueError("give the restaurant's local time, without an offset (e.g. 19:00)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WaitlistJoin:
        if self.earliest > self.latest:
            raise ValueError("`from` must not be after `to`")
        return self


class WalkInCreate(GuestIn):
    """A party at the door (staff): who, how many, and the wait they were told."""

    party_size: Number = Field(ge=1, le=200)
    quoted_wait_minutes: Number = Field(ge=0, le=600)


class OfferSummary(BaseModel):
    time: str = Field(description="Local start time of the table held, HH:MM")
    table_numbers: list[int]
    expires_at: datetime = Field(description="The offer lapses at this instant")


class EntryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    kind: EntryKind
    status: EntryStatus
    date: Date
    earliest: str | None = Field(serialization_alias="from", description="HH:MM (booking)")
    latest: str | None = Field(serialization_alias="to", description="HH:MM (booking)")
    party_size: int
    quoted_wait_minutes: int | None = Field(description="Walk-ins: the wait they were told")
    name: str | None = Field(description="The guest's name")
    phone: str | None
    email: str | None
    position: int | None = Field(
        default=None, description="Staff list: place among the date's waiting entries"
    )
    offer: OfferSummary | None = Field(description="While offered: the table held")
    booking_id: int | None = Field(description="Once booked: the booking")
    created_at: datetime


class OfferOut(BaseModel):
    """What an offer link shows: the table held, nothing about anyone."""

    status: EntryStatus = Field(description="offered, or booked once confirmed")
    date: Date
    time: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    table_numbers: list[int]
    expires_at: datetime
    booking_id: int | None = Field(description="Once confirmed: the booking")


class TableFreeError(BaseModel):
    detail: str
    free_times: list[str] = Field(description="The window's start times with a table free")
