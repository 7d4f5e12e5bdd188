"""Which tables are free when: the read side of the booking engine (GET
/bookings/availability), and the day plans both sides use.

Who asks matters: a guest sees online tables only, staff in_house ones too (walk_in
tables are never booked ahead; the statements leave them out). A slot whose service
paces covers is not bookable once the covers starting in its slot interval leave no room
for the party. A slot that cannot be booked says why (`Reason`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from app.bookings.cache import DayCache, day_window
from app.bookings.pacing import Covers, no_table, pacing_reason, read_covers, too_soon
from app.bookings.schemas import Availability, DayAvailability, DaySlot, Reason
from app.bookings.statements import (
    Interval,
    TableRow,
    covers_by_start,
    free_tables_at,
    read_day,
)
from app.db.engine import Database
from app.db.statements import Conn
from app.floor import combinations
from app.floor.combinations import Combination
from app.floor.models import TableChannel, TableState
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


def may_book(table: TableRow, staff: bool) -> bool:
    """Whether a booker may have this table: online ones anyone, in_house ones staff."""
    channel = table.channel
    return channel == TableChannel.online or (staff and channel == TableChannel.in_house)


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
    with the day's covers by start when a service paces them, and the combinations that
    seat the party (offered when no single table is free)."""

    def __init__(
        self,
        slots: list[Slot],
        tables: Sequence[TableRow],
        busy: dict[int, list[Interval]],
        covers: Covers | None = None,
        *,
        venue: Venue | None = None,
        day: date | None = None,
        party_size: int = 1,
        combos: Sequence[Combination] = (),
        bookable: frozenset[int] = frozenset(),
    ) -> None:
        self.slots = slots
        self.tables = tables
        self.busy = busy
        # Only combinations whose every table this booker may have (`bookable`).
        self.combos = [c for c in combos if bookable.issuperset(c.table_ids)]
        self.covers = covers or {}
        self.venue = venue
        self.day = day
        self.party_size = party_size
        self.paces = venue is not None and day is not None and venue.paces_on(day)

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

    def paced(self, slot: Slot) -> Reason | None:
        if not self.paces:
            return None
        assert self.venue is not None and self.day is not None
        return pacing_reason(self.venue, self.day, slot, self.party_size, self.covers)

    def any_free(self, slot: Slot) -> bool:
        if self.paces and self.paced(slot) is not None:
            return False
        busy = self.busy
        for table in self.tables:
            if _free(busy.get(table.id, ()), slot):
                return True
        return bool(self.combos) and bool(self.free_combos(slot))

    def alternatives(self, around: datetime, bookable_from: datetime) -> list[str]:
        """The nearest bookable slot times: up to three before and three after `around`,
        in time order. Walks outwards from `around` and stops once it has them."""
        earlier = (s for s in reversed(self.slots) if bookable_from <= s.starts_at < around)
        later = (s for s in self.slots if s.starts_at > around and s.starts_at >= bookable_from)
        before = list(islice((s for s in earlier if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        after = list(islice((s for s in later if self.any_free(s)), MAX_ALTERNATIVES_EACH_SIDE))
        return [s.label for s in reversed(before)] + [s.label for s in after]


# A day's tables, their busy intervals, covers by start, and when the first hold among
# them expires.
Day = tuple[tuple[TableRow, ...], dict[int, list[Interval]], Covers, datetime | None]


async def read_days(
    conn: Conn, venue: Venue, days: Sequence[date], now: datetime
) -> dict[date, Day]:
    """For each day: every bookable table (online and in_house), best fit first, each
    one's bookings (and holds live at `now`) overlapping the day's window
    (app.bookings.cache.day_window), and, when a service of the day paces, the covers
    starting in it. One statement for all the tables and bookings, one more for the
    covers when any day paces."""
    windows = {day: day_window(venue, day) for day in days}
    start = min(w[0] for w in windows.values())
    end = max(w[1] for w in windows.values())
    found, busy, holds_until = await read_day(conn, 1, start, end, now)
    paced = [day for day in days if venue.paces_on(day)]
    every_cover: Covers = {}
    if paced:
        lo = min(windows[day][0] for day in paced)
        hi = max(windows[day][1] for day in paced)
        every_cover = await covers_by_start(conn, lo, hi)
    every = tuple(found)
    out: dict[date, Day] = {}
    for day, (lo, hi) in windows.items():
        on_day: dict[int, list[Interval]] = {}
        for table_id, intervals in busy.items():
            overlapping = [i for i in intervals if i[0] < hi and i[1] > lo]
            if overlapping:
                on_day[table_id] = overlapping
        covers = {at: n for at, n in every_cover.items() if lo <= at < hi} if day in paced else {}
        # Conservative across a chunk: a hold on another day only makes it re-read sooner.
        out[day] = (every, on_day, covers, holds_until)
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
    conn: Conn, venue: Venue, day: date, party_size: int, days: DayCache, now: datetime,
    *, staff: bool = False,
) -> DayPlan:  # fmt: skip
    """The plan of a day the cache keeps (`days.keeps` is true): from memory, or read
    once for every party size and kept. No occupancy: a party seated now cannot reach a
    day this far ahead. The tables are filtered here for the party and who asks."""
    slots = venue.slots(day, party_size)
    kept = days.get(venue, day, now)
    if kept is None:
        epoch = days.epoch
        every, busy, covers, holds_until = (await read_days(conn, venue, [day], now))[day]
        days.put(epoch, venue, day, every, busy, covers, holds_until)
    else:
        every, busy, covers = kept.tables, kept.busy, kept.covers
    tables = [t for t in every if t.capacity >= party_size and may_book(t, staff)]
    combos = await _combinations(conn, party_size, days)
    ids = frozenset(t.id for t in every if may_book(t, staff)) if combos else frozenset()
    return DayPlan(
        slots, tables, busy, covers, venue=venue, day=day, party_size=party_size,
        combos=combos, bookable=ids,
    )  # fmt: skip


async def day_plan(
    conn: Conn,
    venue: Venue,
    day: date,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
    *,
    staff: bool = False,
) -> DayPlan:
    """Given `days` (the availability cache), a day far enough ahead is answered from
    memory (kept_day_plan)."""
    if days is not None and days.keeps(venue, day, now):
        return await kept_day_plan(conn, venue, day, party_size, days, now, staff=staff)
    slots = venue.slots(day, party_size)
    if not slots:
        return DayPlan(slots, [], {})
    combos = await _combinations(conn, party_size, days)
    tables, busy, _ = await read_day(
        conn, 1 if combos else party_size, slots[0].starts_at, slots[-1].ends_at, now
    )
    for table_id, interval in occupancy(tables, venue, now).items():
        busy[table_id].append(interval)
    covers = await read_covers(conn, venue, day)
    tables = [t for t in tables if may_book(t, staff)]
    fitting = [t for t in tables if t.capacity >= party_size]
    return DayPlan(
        slots, fitting, busy, covers, venue=venue, day=day, party_size=party_size,
        combos=combos, bookable=frozenset(t.id for t in tables),
    )  # fmt: skip


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
        for day, (every, busy, covers, holds_until) in read.items():
            days.put(epoch, venue, day, every, busy, covers, holds_until)
            for party_size in range(1, venue.max_party_size + 1):
                venue.slots(day, party_size)  # lay out the day's grids now, too
        await asyncio.sleep(0)  # let requests through between chunks


async def alternative_times(
    conn: Conn, venue: Venue, day: date, party_size: int, slot: Slot, now: datetime,
    *, staff: bool = False,
) -> list[str]:  # fmt: skip
    plan = await day_plan(conn, venue, day, party_size, now, staff=staff)
    return plan.alternatives(slot.starts_at, bookable_from(venue, now, staff))


def bookable_from(venue: Venue, now: datetime, staff: bool) -> datetime:
    """The earliest start a booker may book: staff skip the lead time."""
    return now if staff else now + venue.lead


def _option(table: TableRow) -> dict[str, Any]:
    """A TableOption as the dict Availability validates (in Rust, all at once: faster
    than building each model in Python, or model_construct; docs/performance.md)."""
    return {"id": table.id, "table_number": table.table_number, "capacity": table.capacity,
            "area": table.area}  # fmt: skip


async def _free_combinations(
    conn: Conn, venue: Venue, party_size: int, slot: Slot, now: datetime,
    days: DayCache | None, staff: bool,
) -> list[Combination]:  # fmt: skip
    """The combinations seating the party whose every table is free for the slot (and
    one this booker may have)."""
    fitting = await _combinations(conn, party_size, days)
    if not fitting:
        return []
    start, end = slot.starts_at, slot.ends_at
    every = await free_tables_at(conn, 1, start, end, now)
    seated = occupancy(every, venue, now)
    free = {t.id for t in every if may_book(t, staff) and not blocks(seated.get(t.id), start, end)}
    return [c for c in fitting if free.issuperset(c.table_ids)]


async def check_slot(
    conn: Conn,
    *,
    day: date,
    at: time,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
    staff: bool = False,
) -> Availability:
    """Given `days`, a day far enough ahead is answered from memory (see
    app.bookings.cache). A rule the request breaks (closed, past, lead time, horizon,
    party size) is a 422 with its code; a slot paced out or without a free table is an
    answer with `bookable` false, its reason and the nearest bookable times. `staff`:
    in_house tables too, and no lead time."""
    venue = await venue_service.get_venue(conn)
    slot = venue.resolve(day, at, party_size, now, lead=not staff)
    plan: DayPlan | None = None
    combos: list[Combination] = []
    if days is not None and days.keeps(venue, day, now):
        plan = await kept_day_plan(conn, venue, day, party_size, days, now, staff=staff)
        free = plan.free_at(slot)
        if not free:
            combos = plan.free_combos(slot)
        reason = plan.paced(slot)
    else:
        start, end = slot.starts_at, slot.ends_at
        free = await free_tables_at(conn, party_size, start, end, now)
        seated = occupancy(free, venue, now)
        free = [t for t in free if may_book(t, staff) and not blocks(seated.get(t.id), start, end)]
        if not free:
            combos = await _free_combinations(conn, venue, party_size, slot, now, days, staff)
        reason = None
        if venue.paces_on(day) and (pace := venue.pace_of(day, slot)) is not None:
            covers = await covers_by_start(conn, pace[1], pace[2])
            reason = pacing_reason(venue, day, slot, party_size, covers)
    if reason is None and not free and not combos:
        reason = no_table(slot, party_size)
    alternatives: list[str] = []
    if reason is not None:
        free, combos = [], []
        if plan is None:  # only when it cannot be booked is the whole day worth laying out
            plan = await day_plan(conn, venue, day, party_size, now, staff=staff)
        alternatives = plan.alternatives(slot.starts_at, bookable_from(venue, now, staff))
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
            "bookable": reason is None,
            "reason": reason,
        }
    )


async def check_day(
    conn: Conn,
    *,
    day: date,
    party_size: int,
    now: datetime,
    days: DayCache | None = None,
    staff: bool = False,
) -> DayAvailability:
    """Every slot of the day for the party, each bookable or not with its reason. A day
    that cannot be booked at all (closed, past, beyond the horizon, party too large) is a
    422 with its code."""
    venue = await venue_service.get_venue(conn)
    venue.check_party(party_size)
    venue.check_day(day, now)
    plan = await day_plan(conn, venue, day, party_size, now, days, staff=staff)
    out = []
    for s in plan.slots:
        reason = too_soon(venue, s, now, staff) or plan.paced(s)
        free = 0
        if reason is None:
            free = plan.options(s)
            if not free:
                reason = no_table(s, party_size)
        out.append(
            DaySlot(
                time=s.label,
                starts_at=venue.local(s.starts_at),
                available_tables=free,
                bookable=reason is None,
                reason=reason,
            )
        )
    return DayAvailability(date=day, party_size=party_size, slots=out)
