"""Pacing (a service's `pacing_covers`: at most N covers starting in each slot
interval) and the reasons a slot is not bookable, as availability gives them."""

from __future__ import annotations

from datetime import date, datetime

from app.bookings.cache import day_window
from app.bookings.schemas import Reason
from app.bookings.statements import covers_by_start
from app.db.statements import Conn
from app.venue.calendar import Slot, Venue
from app.venue.reasons import ReasonCode

Covers = dict[datetime, int]


def covers_in(covers: Covers, start: datetime, end: datetime) -> int:
    return sum(n for at, n in covers.items() if start <= at < end)


def pacing_reason(
    venue: Venue, day: date, slot: Slot, party_size: int, covers: Covers
) -> Reason | None:
    """paced_out when the covers starting in the slot's interval leave no room for the
    party (`covers`: by start, at least over that interval)."""
    pace = venue.pace_of(day, slot)
    if pace is None:
        return None
    limit, start, end = pace
    taken = covers_in(covers, start, end)
    if taken + party_size <= limit:
        return None
    return Reason(code=ReasonCode.paced_out, message=paced_message(venue, slot, limit, taken))


def paced_message(venue: Venue, slot: Slot, limit: int, taken: int) -> str:
    left = max(limit - taken, 0)
    room = "no more guests" if left == 0 else f"only {left} more guest{'s' * (left != 1)}"
    return (
        f"{slot.label} is paced: the kitchen takes at most {limit} guests starting every "
        f"{venue.slot_minutes} minutes, and has room for {room} then"
    )


def no_table(slot: Slot, party_size: int) -> Reason:
    return Reason(
        code=ReasonCode.no_table,
        message=f"No table for {party_size} is free at {slot.label}",
    )


async def read_covers(conn: Conn, venue: Venue, day: date) -> Covers:
    """The day's covers by start, when a service of the day paces (else nothing read)."""
    if not venue.paces_on(day):
        return {}
    lo, hi = day_window(venue, day)
    return await covers_by_start(conn, lo, hi)


def too_soon(venue: Venue, slot: Slot, now: datetime, staff: bool) -> Reason | None:
    if slot.starts_at < now:
        return Reason(code=ReasonCode.past, message=f"{slot.label} has passed")
    if not staff and slot.starts_at < now + venue.lead:
        minutes = int(venue.lead.total_seconds() // 60)
        return Reason(
            code=ReasonCode.lead_time,
            message=f"{slot.label} is too soon: bookings must be made at least {minutes} "
            "minutes ahead",
        )
    return None
