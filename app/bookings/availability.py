"""Which tables are free when: the read side of the booking engine (GET
/bookings/availability), and the day plans both sides use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from app.bookings.cache import DayCache, day_window
from app.bookings.schemas import Availability, DayAvailability, DaySlot
from app.bookings.statements import Interval, TableRow, free_tables_at, read_day
from app.db.engine import Database
from app.db.statements import Conn
from app.floor import combinations
from app.floor.combinations import Combination
from app.floor.models import TableState
from app.venue import service as venue_service
from app.venue.calendar import Slot, Venue

MAX_ALTERNATIVES_EACH_SIDE = 3


def occupancy(tables: Sequence[TableRow], venue: Venue, now: datetime) -> dict[int, Interval]:
    """Tables with a party at them now are busy from when it sat down until its expected
    end (the dining time for its size), and at least until a minute from now."""
    out: dict[int, Interval] = {}
    for table in tables:
        if table.state != TableState.occupied or table.current_order_id is None:
            continue
        since = table.occupied_since or now
        guests = table.seated_guests if table.seated_guests is not None else table.capacity
        expected_end = since + venue.duration_for(guests)
        out[table.id] = (min(since, now), max(expected_end, now + timedelta(minutes=1)))
    return out


def blocks(interval: Interval | None, starts_at: datetime, ends_at: datetime) -> bool:
    return interval is not None and interval[0] < ends_at and interval[1] > starts_at


def _free(intervals: Sequence[Interval], slot: Slot) -> bool:
    starts_at, ends_at = slot.starts_at, slot.ends_at
    for busy_from, busy_until in intervals:  # a plain loop: this runs for every slot
        if busy_from < ends_at and busy_until > starts_at:
            return False
    return True


class DayPlan:
    """The fitting tables and their bookings for one day, to answer many slots at once;
    with the combinations that seat the party, offered when no single table is free."""

    def __init__(
        self,
        slots: list[Slot],
        tables: Sequence[TableRow],
        busy: dict[int, list[Interval]],
        combos: Sequence[Combination] = (),
        bookable: frozenset[int] = frozenset(),
    ) -> None:
        self.slots = slots
        self.tables = tables
        self.busy = busy
        # Only combinations whose every table is bookable (`bookable`: the ids read).
        self.combos = [c for c in combos if bookable.issuperset(c.table_ids)]

    def free_at(self, slot: Slot) -> list[TableRow]:
        return [t for t in self.tables if _free(self.busy.get(t.id, ()), slot)]

    def free_combos(self, slot: Slot) -> list[Combination]:
        busy = self.busy
        return [
            c for c in self.combos
            if all(_free(busy.get(table_id, ()), slot) for table_id in c.table_ids)
        ]  # fmt: skip

    def options(self, slot: Slot) -> int:
        """How many places the party could book: free tables, or else free combinations."""
        return len(self.free_at(slot)) or (len(self.free_combos(slot)) if self.combos else 0)

    def any_free(self, slot: Slot) -> bool:
        busy = self.busy
        for table in self.tables:
            if _free(busy.get(table.id, ()), slot):
                return True
        return bool(self.combos) and bool(self.free_combos(slot))

    def alternatives(self, around: datetime, bookable_from: datetime) -> list[str]:
        """The nearest free slot times: up to three before and three after `around`, in
        time order. Walks outwards from `around` and stops once it has them."""
        earlier = (s for s in reversed(self.slots) if bookable_from <= s.starts_at < around)
        later = (s for s in self.slots if s.starts_at > around and s.starts_at >= bookable_from)
        before = list(islice((s for s in earlier if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        after = list(islice((s for s in later if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        return [s.label for s in reversed(before)] + [s.label for s in after]


# A day's tables, their busy intervals, and when the first hold among them expires.
Day = tuple[tuple[TableRow, ...], dict[int, list[Interval]], datetime | None]


async def read_days(
    conn: Conn, venue: Venue, days: Sequence[date], now: datetime
) -> dict[date, Day]:
    """For each day: every bookable table, best fit first, and each one's bookings (and
    holds live at `now`) overlapping the day's window (app.bookings.cache.day_window).
    One statement for all of them."""
    windows = {day: day_window(venue, day) for day in days}
    start = min(w[0] for w in windows.values())
    end = max(w[1] for w in windows.values())
    found, busy, holds_until = await read_day(conn, 1, start, end, now)
    every = tuple(found)
    out: dict[date, Day] = {}
    for day, (lo, hi) in windows.items():
        on_day: dict[int, list[Interval]] = {}
        for table_id, intervals in busy.items():
            overlapping = [i for i in intervals if i[0] < hi and i[1] > lo]
            if overlapping:
                on_day[table_id] = overlapping
        # Conservative across a chunk: a hold on another day only makes it re-read sooner.
        out[day] = (every, on_day, holds_until)
    return out


async def _combinations(conn: Conn, party_size: int, days: DayCache | None) -> list[Combination]:
    """The combinations that seat the party (kept with the days, when they are kept)."""
    if days is not None and days.live:
        if days.combinations is None:
            days.combinations = await combinations.read_all(conn)
        every = days.combinations
    else:
        every = await combinations.read_all(conn)
    return combinations.fitting(every, party_size)


async def kept_day_plan(
    conn: Conn, venue: Venue, day: date, party_size: int, days: DayCache, now: datetime
) -> DayPlan:
    """The plan of a day the cache keeps (`days.keeps` is true): from memory, or read
    once for every party size and kept. No occupancy: a party seated now cannot reach a
    day this far ahead."""
    slots = venue.slots(day, party_size)
    kept = days.get(venue, day, now)
    if kept is None:
        epoch = days.epoch
        every, busy, holds_until = (await read_days(conn, venue, [day], now))[day]
        days.put(epoch, venue, day, every, busy, holds_until)
    else:
        every, busy = kept.tables, kept.busy
    combos = await _combinations(conn, party_size, days)
    fitting = [t for t in every if t.capacity >= party_size]
    return DayPlan(
        slots, fitting, busy, combos, frozenset(t.id for t in every) if combos else frozenset()
    )


async def day_plan(
    conn: Conn,
    venue: Venue,
    day: date,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
) -> DayPlan:
    """Given `days` (the availability cache), a day far enough ahead is answered from
    memory (kept_day_plan)."""
    if days is not None and days.keeps(venue, day, now):
        return await kept_day_plan(conn, venue, day, party_size, days, now)
    slots = venue.slots(day, party_size)
    if not slots:
        return DayPlan(slots, [], {})
    combos = await _combinations(conn, party_size, days)
    tables, busy, _ = await read_day(
        conn, 1 if combos else party_size, slots[0].starts_at, slots[-1].ends_at, now
    )
    for table_id, interval in occupancy(tables, venue, now).items():
        busy[table_id].append(interval)
    fitting = [t for t in tables if t.capacity >= party_size]
    return DayPlan(slots, fitting, busy, combos, frozenset(t.id for t in tables))


WARM_CHUNK_DAYS = 31


async def warm(database: Database, days: DayCache, now: Callable[[], datetime]) -> None:
    """Read every day the cache may keep, up to the booking horizon, a month per
    statement, so that checks find them in memory from the start."""
    async with database.connect(write=False) as conn:
        venue = await venue_service.get_venue(conn)
    today = venue.today(now())
    ahead = [today + timedelta(days=n) for n in range(venue.horizon_days + 1)]
    ahead = [day for day in ahead if days.keeps(venue, day, now()) and venue.services_on(day)]
    for first in range(0, len(ahead), WARM_CHUNK_DAYS):
        if not days.live:
            return
        chunk = ahead[first : first + WARM_CHUNK_DAYS]
        epoch = days.epoch
        async with database.connect(write=False) as conn:
            read = await read_days(conn, venue, chunk, now())
        for day, (every, busy, holds_until) in read.items():
            days.put(epoch, venue, day, every, busy, holds_until)
            for party_size in range(1, venue.max_party_size + 1):
                venue.slots(day, party_size)  # lay out the day's grids now, too
        await asyncio.sleep(0)  # let requests through between chunks


async def alternative_times(
    conn: Conn, venue: Venue, day: date, party_size: int, slot: Slot, now: datetime
) -> list[str]:
    plan = await day_plan(conn, venue, day, party_size, now)
    return plan.alternatives(slot.starts_at, now + venue.lead)


def _option(table: TableRow) -> dict[str, Any]:
    """A TableOption as the dict Availability validates (in Rust, all at once: faster
    than building each model in Python, or model_construct; docs/performance.md)."""
    return {"id": table.id, "table_number": table.table_number, "capacity": table.capacity,
            "area": table.area}  # fmt: skip


async def _free_combinations(
    conn: Conn, venue: Venue, party_size: int, slot: Slot, now: datetime, days: DayCache | None
) -> list[Combination]:
    """The combinations seating the party whose every table is free for the slot."""
    fitting = await _combinations(conn, party_size, days)
    if not fitting:
        return []
    start, end = slot.starts_at, slot.ends_at
    every = await free_tables_at(conn, 1, start, end, now)
    seated = occupancy(every, venue, now)
    free = {t.id for t in every if not blocks(seated.get(t.id), start, end)}
    return [c for c in fitting if free.issuperset(c.table_ids)]


async def check_slot(
    conn: Conn,
    *,
    day: date,
    at: time,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
) -> Availability:
    """Given `days`, a day far enough ahead is answered from memory (see app.bookings.cache)."""
    venue = await venue_service.get_venue(conn)
    slot = venue.resolve(day, at, party_size, now)
    combos: list[Combination] = []
    if days is not None and days.keeps(venue, day, now):
        plan = await kept_day_plan(conn, venue, day, party_size, days, now)
        free = plan.free_at(slot)
        if not free:
            combos = plan.free_combos(slot)
        alternatives = [] if free or combos else plan.alternatives(slot.starts_at, now + venue.lead)
    else:
        start, end = slot.starts_at, slot.ends_at
        free = await free_tables_at(conn, party_size, start, end, now)
        seated = occupancy(free, venue, now)
        free = [t for t in free if not blocks(seated.get(t.id), start, end)]
        if not free:
            combos = await _free_combinations(conn, venue, party_size, slot, now, days)
        # Only when nothing is free is the whole day worth laying out.
        alternatives = (
            []
            if free or combos
            else await alternative_times(conn, venue, day, party_size, slot, now)
        )
    return Availability.model_validate(
        {
            "date": day,
            "time": slot.label,
            "party_size": party_size,
            "starts_at": venue.local(slot.starts_at),
            "ends_at": venue.local(slot.ends_at),
            "available_tables": [_option(t) for t in free],
            "available_combinations": [c.option() for c in combos],
            "alternatives": alternatives,
        }
    )


async def check_day(
    conn: Conn, *, day: date, party_size: int, now: datetime, days: DayCache | None = None
) -> DayAvailability:
    venue = await venue_service.get_venue(conn)
    venue.check_party(party_size)
    venue.check_day(day, now)
    plan = await day_plan(conn, venue, day, party_size, now, days)
    bookable_from = now + venue.lead
    return DayAvailability(
        date=day,
        party_size=party_size,
        slots=[
            DaySlot(
                time=s.label,
                starts_at=venue.local(s.starts_at),
                available_tables=plan.options(s),
            )
            for s in plan.slots
            if s.starts_at >= bookable_from
        ],
    )
