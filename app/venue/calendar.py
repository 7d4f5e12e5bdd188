"""The restaurant's calendar: services, the slot grid, dining durations, booking windows.

Pure functions over a `Venue` snapshot of the settings row. Slots are laid on the local
wall clock (what guests see), then turned into UTC instants. On a daylight-saving change
day a wall time that does not exist is skipped and an ambiguous one is used once (its
first occurrence), so there is no missing, shifted or doubled slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from app.errors import InvalidInput
from app.venue.contact import Contact, stored_of
from app.venue.models import RestaurantSettings
from app.venue.reasons import ReasonCode
from app.venue.schemas import WEEKDAYS, minutes_of

# No dining duration may exceed this; overlap queries rely on it to bound their scan.
MAX_DURATION = timedelta(hours=12)
# Slot grids a Venue keeps, (day, duration) pairs: a snapshot lives as long as the settings.
SLOT_CACHE_SIZE = 4096


class RuleErrorBody(BaseModel):
    """A booking rule broken: what (`detail`, a sentence) and which rule (`code`)."""

    detail: str
    code: ReasonCode


class BookingRuleViolation(InvalidInput):
    """A 422 whose body carries `code` (a ReasonCode) beside `detail`."""

    default_message = "That time cannot be booked"
    body_model = RuleErrorBody

    def __init__(
        self, message: str | None = None, *, code: ReasonCode = ReasonCode.not_a_slot
    ) -> None:
        super().__init__(message, code=code.value)
        self.code = code


@dataclass(frozen=True)
class Slot:
    local_time: time
    starts_at: datetime
    ends_at: datetime

    @property
    def label(self) -> str:
        return f"{self.local_time.hour:02d}:{self.local_time.minute:02d}"


@dataclass(frozen=True)
class Venue:
    name: str
    zone: ZoneInfo
    services: dict[int, list[tuple[int, int]]]  # weekday -> [(opens, closes) in minutes]
    slot_minutes: int
    durations: list[tuple[int | None, int]]  # (max party or None, minutes), ascending
    lead: timedelta
    horizon_days: int
    max_party_size: int
    closed_dates: frozenset[date]
    cancel_cutoff: timedelta
    hold: timedelta
    service_charge_percent: Decimal
    tax_percent: Decimal
    max_active_bookings: int = 4
    # Pacing: weekday -> each service's covers limit per slot interval (None: no limit),
    # in the order of `services`.
    pacing: dict[int, list[int | None]] = field(default_factory=dict)
    # The contact details the settings row holds (app.venue.contact.effective adds the
    # environment's defaults).
    contact: Contact = field(default_factory=Contact)
    _slot_cache: dict[tuple[date, timedelta], list[Slot]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _closing_cache: dict[tuple[date, int], datetime] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_settings(cls, row: RestaurantSettings | SimpleNamespace) -> Venue:
        services = {
            WEEKDAYS.index(day): [(minutes_of(s["opens"]), minutes_of(s["closes"])) for s in items]
            for day, items in row.opening_hours.items()
        }
        pacing = {
            WEEKDAYS.index(day): [s.get("pacing_covers") for s in items]
            for day, items in row.opening_hours.items()
        }
        durations = [(d.get("max_party_size"), int(d["minutes"])) for d in row.durations]
        return cls(
            name=row.name,
            zone=ZoneInfo(row.timezone),
            services=services,
            slot_minutes=row.slot_minutes,
            durations=durations,
            lead=timedelta(minutes=row.lead_minutes),
            horizon_days=row.horizon_days,
            max_party_size=row.max_party_size,
            closed_dates=frozenset(date.fromisoformat(d) for d in row.closed_dates),
            cancel_cutoff=timedelta(minutes=row.cancel_cutoff_minutes),
            hold=timedelta(minutes=row.hold_minutes),
            service_charge_percent=row.service_charge_percent,
            tax_percent=row.tax_percent,
            max_active_bookings=getattr(row, "max_active_bookings_per_guest", 4),
            contact=stored_of(row),
            pacing=pacing if any(any(p) for p in pacing.values()) else {},
        )

    # -- conversions -------------------------------------------------------------------
    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def to_utc(self, day: date, minute_of_day: int) -> datetime | None:
        """The instant of a local wall time, or None if that wall time does not exist."""
        naive = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
        local = naive.replace(tzinfo=self.zone, fold=0)
        instant = local.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != naive:
            return None  # skipped by a spring-forward change
        return instant

    def start_of(self, day: date) -> datetime:
        """The instant the local day begins: midnight, or an hour later where a clock
        change skips midnight."""
        start = self.to_utc(day, 0)
        if start is None:
            start = self.to_utc(day, 60)
        assert start is not None
        return start

    def closing(self, day: date, minute_of_day: int) -> datetime:
        """The instant a service that ends at this local wall time ends: a wall time the
        clocks pass twice counts at its first reading, and one they skip at the moment
        they jump past it, so a party is never seated to stay past the real closing
        time. Kept like the slots (every availability check asks)."""
        key = (day, minute_of_day)
        instant = self._closing_cache.get(key)
        if instant is None:
            if len(self._closing_cache) >= SLOT_CACHE_SIZE:
                self._closing_cache.clear()
            instant = self._closing(
                datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
            )
            self._closing_cache[key] = instant
        return instant

    def _closing(self, naive: datetime) -> datetime:
        first, second = (naive.replace(tzinfo=self.zone, fold=f).astimezone(UTC) for f in (0, 1))
        instant = min(first, second)
        if first.astimezone(self.zone).replace(tzinfo=None) == naive:
            return instant  # an ordinary wall time, or one passed twice
        while instant.astimezone(self.zone).replace(tzinfo=None) < naive:  # skipped
            instant += timedelta(minutes=1)  # clocks change on the minute
        return instant

    # -- rules -------------------------------------------------------------------------
    def duration_for(self, party_size: int) -> timedelta:
        for limit, minutes in self.durations:
            if limit is None or party_size <= limit:
                return timedelta(minutes=minutes)
        return timedelta(minutes=self.durations[-1][1])

    def services_on(self, day: date) -> list[tuple[int, int]]:
        if day in self.closed_dates:
            return []
        return self.services.get(day.weekday(), [])

    @property
    def paces(self) -> bool:
        """Whether any service has a pacing limit (most restaurants: none)."""
        return bool(self.pacing)

    def paces_on(self, day: date) -> bool:
        """Whether a service on `day` has a pacing limit."""
        if not self.pacing or day in self.closed_dates:
            return False
        return any(limit is not None for limit in self.pacing.get(day.weekday(), ()))

    def pace_of(self, day: date, slot: Slot) -> tuple[int, datetime, datetime] | None:
        """The pacing limit of the slot's service on `day`, with the slot interval it
        counts covers in ([start, start + slot_minutes), in UTC), or None when the
        service has no limit. The interval is the grid step the slot starts in, so a
        booking starting anywhere in it counts."""
        if not self.pacing or day in self.closed_dates:
            return None
        limits = self.pacing.get(day.weekday())
        if not limits:
            return None
        minute = slot.local_time.hour * 60 + slot.local_time.minute
        services = self.services.get(day.weekday(), [])
        for (opens, closes), limit in zip(services, limits, strict=False):
            if limit is not None and opens <= minute < closes:
                first = minute - (minute - opens) % self.slot_minutes
                start = slot.starts_at - timedelta(minutes=minute - first)
                return limit, start, start + timedelta(minutes=self.slot_minutes)
        return None

    def slots(self, day: date, party_size: int) -> list[Slot]:
        """Every bookable start on `day` for the party: each service's grid up to its
        last seating (the last start whose meal ends by the closing instant, in real
        time). Kept per (day, duration) for the life of this snapshot of the settings."""
        duration = self.duration_for(party_size)
        key = (day, duration)
        if key not in self._slot_cache:
            if len(self._slot_cache) >= SLOT_CACHE_SIZE:  # a long-lived snapshot: stay bounded
                self._slot_cache.clear()
            self._slot_cache[key] = self._lay_out(day, duration)
        return self._slot_cache[key]

    def _lay_out(self, day: date, duration: timedelta) -> list[Slot]:
        out: list[Slot] = []
        for opens, closes in self.services_on(day):
            ends = self.closing(day, closes)
            for minute in range(opens, closes, self.slot_minutes):
                starts_at = self.to_utc(day, minute)
                # The last seating in real time, so a clock change inside the meal counts.
                if starts_at is None or starts_at + duration > ends:
                    continue
                local = (datetime.combine(day, time()) + timedelta(minutes=minute)).time()
                out.append(Slot(local, starts_at, starts_at + duration))
        return out

    def check_party(self, party_size: int) -> None:
        if party_size < 1:
            raise BookingRuleViolation(
                "party_size must be at least 1", code=ReasonCode.party_too_large
            )
        if party_size > self.max_party_size:
            raise BookingRuleViolation(
                f"party_size {party_size} is above the maximum of {self.max_party_size}; "
                "please contact the restaurant for large groups",
                code=ReasonCode.party_too_large,
            )

    def check_day(self, day: date, now: datetime) -> None:
        today = self.today(now)
        if day < today:
            raise BookingRuleViolation(f"{day.isoformat()} is in the past", code=ReasonCode.past)
        if day > today + timedelta(days=self.horizon_days):
            raise BookingRuleViolation(
                f"{day.isoformat()} is beyond the booking horizon of {self.horizon_days} days",
                code=ReasonCode.beyond_horizon,
            )
        if not self.services_on(day):
            raise BookingRuleViolation(
                f"the restaurant is closed on {day.isoformat()}", code=ReasonCode.closed
            )

    def resolve(
        self, day: date, at: time, party_size: int, now: datetime, *, lead: bool = True
    ) -> Slot:
        """The slot for a requested local date and time, or a 422 that says what is wrong.

        `lead=False` (staff taking a phone booking) skips the minimum lead time."""
        self.check_party(party_size)
        self.check_day(day, now)
        label = f"{at.hour:02d}:{at.minute:02d}"
        if at.second or at.microsecond:
            raise BookingRuleViolation(
                f"{at.isoformat()} is not on the {self.slot_minutes}-minute grid"
            )
        minute = at.hour * 60 + at.minute
        starts_at = self.to_utc(day, minute)
        if starts_at is None:
            raise BookingRuleViolation(
                f"{label} does not exist on {day.isoformat()} (the clocks change)"
            )
        if starts_at < now:
            raise BookingRuleViolation(
                f"{day.isoformat()} {label} is in the past", code=ReasonCode.past
            )
        if lead and starts_at < now + self.lead:
            raise BookingRuleViolation(
                f"bookings must be made at least {self.lead.total_seconds() // 60:.0f} "
                "minutes ahead",
                code=ReasonCode.lead_time,
            )
        duration = self.duration_for(party_size)
        for opens, closes in self.services_on(day):
            if opens <= minute < closes:
                if (minute - opens) % self.slot_minutes:
                    raise BookingRuleViolation(
                        f"{label} is not on the {self.slot_minutes}-minute grid"
                    )
                if starts_at + duration > self.closing(day, closes):
                    seatings = [
                        s.label
                        for s in self.slots(day, party_size)
                        if opens <= s.local_time.hour * 60 + s.local_time.minute < closes
                    ]
                    last = f"{seatings[-1]}, " if seatings else "none: "
                    raise BookingRuleViolation(
                        f"{label} is past the last seating for a party of {party_size} "
                        f"({last}the service ends at {_hhmm(closes)})",
                        code=ReasonCode.closed,
                    )
                return Slot(at.replace(second=0, microsecond=0), starts_at, starts_at + duration)
        hours = ", ".join(f"{_hhmm(o)}-{_hhmm(c)}" for o, c in self.services_on(day))
        raise BookingRuleViolation(
            f"{label} is outside opening hours ({hours})", code=ReasonCode.closed
        )


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
