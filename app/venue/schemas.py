from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from app.bookings.schemas import StrandOutcome
from app.fields import Number, decimal_input

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("must be a time HH:MM between 00:00 and 24:00")
    return value


def minutes_of(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


HHMM = Annotated[str, AfterValidator(_hhmm)]
Percent = Annotated[
    Decimal,
    *decimal_input(minimum=0, maximum=100),
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
]


class Service(BaseModel):
    """One sitting of a day, e.g. lunch 12:00-15:00. `closes` may be 24:00 (midnight).
    `pacing_covers` limits the covers starting in each slot interval of it."""

    opens: HHMM
    closes: HHMM
    pacing_covers: Number | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Pacing: at most this many covers (guests) may start in any one slot "
        "interval (`slot_minutes`) of this service, e.g. 30 per 15 minutes; null: no limit. "
        "Staff may book past it with a reason",
        examples=[30],
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if minutes_of(self.closes) <= minutes_of(self.opens):
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


class DurationRule(BaseModel):
    """Parties up to `max_party_size` guests (null: any larger party) dine `minutes`."""

    max_party_size: Number | None = Field(default=None, ge=1)
    minutes: Number = Field(ge=15, le=720)


def _check_services(hours: dict[str, list[Service]]) -> dict[str, list[Service]]:
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
    for day, services in hours.items():
        ordered = sorted(services, key=lambda s: minutes_of(s.opens))
        for before, after in pairwise(ordered):
            if minutes_of(after.opens) < minutes_of(before.closes):
                raise ValueError(
                    f"{day}: services {before.opens}-{before.closes} and "
                    f"{after.opens}-{after.closes} overlap"
                )
        hours[day] = ordered
    return hours


def _check_durations(rules: list[DurationRule]) -> list[DurationRule]:
    if not rules:
        raise ValueError("at least one duration rule is needed")
    bounded = sorted(
        (r for r in rules if r.max_party_size is not None), key=lambda r: r.max_party_size or 0
    )
    open_ended = [r for r in rules if r.max_party_size is None]
    if len(open_ended) != 1:
        raise ValueError("exactly one rule must have max_party_size null (larger parties)")
    sizes = [r.max_party_size for r in bounded]
    if len(set(sizes)) != len(sizes):
        raise ValueError("max_party_size values must be distinct")
    return [*bounded, *open_ended]


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def _check_categories(value: list[str]) -> list[str]:
    """Menu categories, as the menu stores them (lower case), each once, in order."""
    seen: list[str] = []
    for raw in value:
        category = raw.strip().lower()
        if not category or len(category) > 40:
            raise ValueError("each category must be 1 to 40 characters")
        if category not in seen:
            seen.append(category)
    return seen


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must be one line, without control characters")
    return value


_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def _contact_email(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    try:
        return _EMAIL.validate_python(text)
    except ValidationError:
        raise ValueError(f"{text!r} is not an e-mail address, e.g. hello@example.com") from None


def _website(value: str) -> str:
    text = _one_line(value.strip())
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError(f"{text!r} is not a web address; give it whole, e.g. https://example.com")
    return text


def _address(value: str) -> str:
    return _one_line(value.strip())


OpeningHours = Annotated[dict[str, list[Service]], AfterValidator(_check_services)]
Durations = Annotated[list[DurationRule], AfterValidator(_check_durations)]
Zone = Annotated[str, AfterValidator(_check_zone)]
Categories = Annotated[list[str], Field(max_length=50), AfterValidator(_check_categories)]
ContactEmail = Annotated[str, Field(max_length=320), AfterValidator(_contact_email)]
Website = Annotated[str, Field(max_length=300), AfterValidator(_website)]
Address = Annotated[str, Field(max_length=300), AfterValidator(_address)]


class RestaurantRules(BaseModel):
    """What the restaurant's settings row holds (an admin changes it: PUT /restaurant)."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    timezone: str
    opening_hours: dict[str, list[Service]]
    slot_minutes: int
    durations: list[DurationRule]
    lead_minutes: int
    horizon_days: int
    max_party_size: int
    closed_dates: list[date]
    cancel_cutoff_minutes: int
    hold_minutes: int
    max_active_bookings_per_guest: int = Field(
        description="Upcoming bookings one customer account may hold at once (staff exempt)"
    )
    bar_categories: list[str]
    service_charge_percent: Percent
    tax_percent: Percent
    updated_at: datetime


class RestaurantSettingsOut(RestaurantRules):
    """The restaurant's rules, and what a guest page shows: how to reach the restaurant
    (each detail as an admin set it, else the environment's; null when neither is set)
    and what only the environment holds."""

    phone: str | None = Field(
        description="How to call the restaurant: as an admin set it (E.164), else RESTAURANT_PHONE"
    )
    email: str | None = Field(
        description="The restaurant's e-mail address: as an admin set it, else RESTAURANT_EMAIL"
    )
    address: str | None = Field(
        description="Where the restaurant is: as an admin set it, else RESTAURANT_ADDRESS"
    )
    website: str | None = Field(
        description="The restaurant's own site: as an admin set it, else RESTAURANT_WEBSITE"
    )
    brand_color: str = Field(
        description="The guest pages' accent colour, #rrggbb (BRAND_COLOR)",
        examples=["#7a2e1f"],
    )
    large_party_note: str = Field(
        description="What to tell a party larger than `max_party_size` (LARGE_PARTY_NOTE, "
        "or a sentence made from the largest party and the phone number)",
        examples=["For more than 12 guests, please call us on +44 20 7946 0000."],
    )


class RestaurantSettingsChanged(RestaurantSettingsOut, StrandOutcome):
    """The settings as changed, and the bookings the change cancelled (none unless
    `cancel_affected=true` was asked; settings changes move no booking to another
    table)."""


class RestaurantSettingsUpdate(BaseModel):
    """Fields left out keep their current value. `opening_hours`: with PUT it replaces the
    whole week (a weekday missing from it is closed); with PATCH it changes only the
    weekdays it names (a weekday left out keeps its hours, an empty list closes it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    timezone: Zone | None = None
    opening_hours: OpeningHours | None = None
    slot_minutes: Number | None = Field(default=None, ge=5, le=240)
    durations: Durations | None = None
    lead_minutes: Number | None = Field(default=None, ge=0, le=7 * 24 * 60)
    horizon_days: Number | None = Field(default=None, ge=1, le=730)
    max_party_size: Number | None = Field(default=None, ge=1, le=200)
    closed_dates: list[date] | None = None
    cancel_cutoff_minutes: Number | None = Field(default=None, ge=0, le=7 * 24 * 60)
    hold_minutes: Number | None = Field(default=None, ge=0, le=240)
    max_active_bookings_per_guest: Number | None = Field(default=None, ge=1, le=1_000_000)
    bar_categories: Categories | None = Field(
        default=None,
        description="Menu categories whose tickets go to the bar (the rest: the kitchen); "
        "tickets already sent keep their station",
        examples=[["drinks", "cocktails"]],
    )
    service_charge_percent: Percent | None = None
    tax_percent: Percent | None = None
    phone: str | None = Field(
        default=None,
        max_length=64,
        description="How to call the restaurant, stored in E.164; a number without "
        "+country code is read in PHONE_REGION. An empty string goes back to RESTAURANT_PHONE",
        examples=["+44 20 7946 0000"],
    )
    email: ContactEmail | None = Field(
        default=None,
        description="The restaurant's e-mail address; an empty string goes back to "
        "RESTAURANT_EMAIL",
    )
    address: Address | None = Field(
        default=None,
        description="Where the restaurant is, one line; an empty string goes back to "
        "RESTAURANT_ADDRESS",
    )
    website: Website | None = Field(
        default=None,
        description="The restaurant's own site, an http(s) address; an empty string goes "
        "back to RESTAURANT_WEBSITE",
        examples=["https://www.example.com"],
    )

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> Self:
        nulls = sorted(k for k in self.model_fields_set if getattr(self, k) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        return self

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # The name goes into e-mail subjects: a line break there would add headers.
        return None if value is None else _one_line(value)

    @field_validator("closed_dates")
    @classmethod
    def _unique_dates(cls, value: list[date] | None) -> list[date] | None:
        return sorted(set(value)) if value is not None else None
