"""Availability of the days ahead, kept in memory and dropped the moment they change.

Most availability checks ask about a day well ahead, and the same day is asked about
again and again while its bookings stay put. On PostgreSQL each server process keeps
those days in memory: the bookable tables with every active booking that overlaps the
day. A check of a kept day needs no connection and no query.

Freshness:
- Triggers (migration 0007) NOTIFY on every committed change to bookings (with the
  booking's range), to what a table is, or to the settings. `DayCacheListener` (listener.py) LISTENs
  on its own connection and drops the days concerned, in every process.
- A write committed by this process drops every kept day at once (Database.after_write),
  so a guest who has just booked or cancelled never sees the old state from this process.
- Another process's change is seen once its NOTIFY arrives, normally within a
  millisecond or two; a booking made by book_table is announced by the process that
  made it within ChangePublisher.FLUSH_SECONDS (publisher.py) instead of at commit. Nothing
  is kept while the listener is not connected, and a kept day is read again after
  `TTL` whatever happens.
- A day read while a change is on its way could be older than the change: an entry is
  kept only if nothing was dropped between starting to read it and storing it.

The cache only answers questions; it never decides a booking. POST /bookings checks
and inserts under the table's lock in the database, so a stale answer can at worst offer
a table that is then refused with 409 and the alternatives.

Only days starting at least MAX_DURATION from now are kept: a party seated at a table
now can only block slots before that (see availability.occupancy), so a kept day does
not depend on the floor's live state.

Modules: days.py (DayCache, the kept days), listener.py (DayCacheListener),
publisher.py (ChangePublisher, announcing book_table's bookings).
"""

from app.bookings.cache.days import DayCache, DaySnapshot, change_payload, day_window
from app.bookings.cache.listener import DayCacheListener
from app.bookings.cache.publisher import ChangePublisher

__all__ = [
    "ChangePublisher",
    "DayCache",
    "DayCacheListener",
    "DaySnapshot",
    "change_payload",
    "day_window",
]
