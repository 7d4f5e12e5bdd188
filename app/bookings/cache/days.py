"""The kept days of one database, in one process (see the package's docstring)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time

from app.bookings.statements import Interval, TableRow
from app.floor.combinations import Combination
from app.venue.calendar import MAX_DURATION, Venue

TTL = 300.0  # seconds: a safety net; a change drops a day within milliseconds
MAX_DAYS = 1024


@dataclass(frozen=True)
class DaySnapshot:
    """The bookable tables (best fit first; online and in_house, filtered by who asks)
    and each one's active bookings overlapping [window_start, window_end), which
    covers every slot of the local day."""

    venue: Venue
    window_start: datetime
    window_end: datetime
    tables: tuple[TableRow, ...]
    busy: dict[int, list[Interval]]
    expires: float
    # Pacing: covers of the active bookings starting that day, by start (every table's;
    # empty when the venue paces no service).
    covers: dict[datetime, int] = field(default_factory=dict)
    # When the first hold among `busy` expires: the day is read again from then on.
    holds_until: datetime | None = None


_MARGIN = timedelta(hours=1)
_AHEAD = MAX_DURATION + _MARGIN


def day_window(venue: Venue, day: date) -> tuple[datetime, datetime]:
    """From local midnight to the next, with an hour's margin each side for a
    daylight-saving change (a service ends by midnight)."""
    start = datetime.combine(day, Time(), tzinfo=venue.zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), Time(), tzinfo=venue.zone).astimezone(UTC)
    return start - _MARGIN, end + _MARGIN


class DayCache:
    """Kept days of one database, in one process. Empty and unused until `open()`."""

    def __init__(self, *, max_days: int = MAX_DAYS, ttl: float = TTL) -> None:
        self.max_days = max_days
        self.ttl = ttl
        self.live = False
        self.epoch = 0  # bumped by every drop; see `put`
        self._days: OrderedDict[date, DaySnapshot] = OrderedDict()
        self.hits = 0  # answers given from memory
        # The table combinations (app.floor.combinations), read once and dropped with
        # everything else (a change of them NOTIFYs "*").
        self.combinations: list[Combination] | None = None

    def __len__(self) -> int:
        return len(self._days)

    def keeps(self, venue: Venue, day: date, now: datetime) -> bool:
        """Whether `day` is one this cache may answer for at `now`: its window starts
        at least MAX_DURATION ahead (a later local date than that moment plus the
        window's margin is enough)."""
        return self.live and day > venue.local(now + _AHEAD).date()

    def get(self, venue: Venue, day: date, now: datetime | None = None) -> DaySnapshot | None:
        entry = self._days.get(day)
        if entry is None or entry.venue is not venue or entry.expires < time.monotonic():
            return None
        if entry.holds_until is not None and (now is None or entry.holds_until <= now):
            return None  # a hold it counts is over: the table is free again
        self.hits += 1
        return entry

    def put(
        self,
        epoch: int,
        venue: Venue,
        day: date,
        tables: tuple[TableRow, ...],
        busy: dict[int, list[Interval]],
        covers: dict[datetime, int] | None = None,
        holds_until: datetime | None = None,
    ) -> None:
        """Keep a day read after `epoch` was taken, unless something was dropped since
        (the read may predate that change)."""
        if not self.live or epoch != self.epoch:
            return
        start, end = day_window(venue, day)
        expires = time.monotonic() + self.ttl
        self._days[day] = DaySnapshot(
            venue, start, end, tables, busy, expires, covers or {}, holds_until
        )
        self._days.move_to_end(day)
        while len(self._days) > self.max_days:
            self._days.popitem(last=False)

    def drop(self, starts_at: datetime, ends_at: datetime) -> None:
        """Drop the days whose window overlaps [starts_at, ends_at)."""
        self.epoch += 1
        stale = [
            day
            for day, entry in self._days.items()
            if entry.window_start < ends_at and entry.window_end > starts_at
        ]
        for day in stale:
            del self._days[day]

    def clear(self) -> None:
        self.epoch += 1
        self._days.clear()
        self.combinations = None

    def notified(self, payload: str) -> None:
        """A NOTIFY: "<start epoch> <end epoch>" from the triggers, several of those
        joined by ";" from a ChangePublisher, or "*" (anything may have changed)."""
        try:
            ranges = [tuple(int(part) for part in one.split()) for one in payload.split(";")]
            if any(len(r) != 2 for r in ranges):
                raise ValueError(payload)
        except ValueError:
            self.clear()
            return
        for start, end in ranges:
            self.drop(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))

    def open(self) -> None:
        self.clear()
        self.live = True

    def close(self) -> None:
        self.live = False
        self.clear()


def change_payload(start: datetime, end: datetime) -> str:
    """A booking's range as the triggers write it (whole seconds, widened)."""
    return f"{math.floor(start.timestamp())} {math.ceil(end.timestamp())}"
