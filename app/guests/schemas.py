from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

Email = Annotated[EmailStr, AfterValidator(lambda v: v.lower()), Field(max_length=320)]
GuestName = Annotated[str, AfterValidator(str.strip), Field(min_length=1, max_length=120)]
PhoneText = Annotated[
    str,
    Field(
        min_length=3,
        max_length=32,
        description="A phone number; with +country code, or as dialled in the restaurant's "
        "region (PHONE_REGION). Stored in E.164.",
    ),
]
Tag = Annotated[str, Field(min_length=1, max_length=40)]


class GuestIn(BaseModel):
    """Who a booking is for, when staff book for someone else."""

    model_config = ConfigDict(extra="forbid")

    name: GuestName
    phone: PhoneText | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> GuestIn:
        if self.phone is None and self.email is None:
            raise ValueError("give the guest's phone or e-mail (or both)")
        if not self.name.strip():
            raise ValueError("give the guest's name")
        return self


class GuestOut(BaseModel):
    """A booking's guest, as the guest and staff see it."""

    id: int
    name: str
    phone: str | None
    email: str | None


class GuestSummary(GuestOut):
    """A guest record, as staff see it (counted from their bookings)."""

    user_id: int | None = Field(description="Their account, if they have one")
    notes: str | None
    allergies: str | None
    tags: list[str]
    visits: int = Field(description="Bookings seated or completed")
    cancellations: int
    no_shows: int
    created_at: datetime


class GuestPage(BaseModel):
    items: list[GuestSummary]
    total: int
    limit: int
    offset: int


class GuestUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GuestName | None = None
    phone: str | None = Field(
        default=None, max_length=32, description="null or an empty string removes it"
    )
    email: Email | None = None
    notes: str | None = Field(default=None, max_length=4000)
    allergies: str | None = Field(default=None, max_length=500)
    tags: list[Tag] | None = Field(default=None, max_length=20)
