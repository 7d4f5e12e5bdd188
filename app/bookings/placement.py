"""Putting a booking or a hold on tables: one table that fits, or when none does, a
combination of tables (app.floor.combinations). Shared by POST /bookings (the full path:
app.bookings.service.create_booking) and POST /bookings/holds (app.bookings.holds).

Every table written onto is first locked (app.db.locks.table_day_lock, in best-fit
order: capacity, then number, as every writer takes them), its holds over by `now` are
marked expired, and the row is inserted only if nothing overlaps it still (one
statement); PostgreSQL's exclusion constraint backs each row. A combination is written
only when every member table is free under its lock, one row per table: a single-table
booking and a combination booking can never overlap on any table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from app.bookings import availability, claims
from app.bookings import statements as sql
from app.bookings.exceptions import TableNotBookable, TableUnavailable
from app.bookings.statements import TableRow
from app.db.locks import table_day_lock
from app.db.statements import Conn
from app.floor import combinations
from app.floor.combinations import Combination
from app.venue.calendar import MAX_DURATION, Slot, Venue


@dataclass(frozen=True, slots=True)
class Row:
    """What the booking's (or hold's) rows carry besides their tables and times."""

    user_id: int | None
    guest_id: int | None
    source: str
    party_size: int
    special_requests: str | None
    hold_expires_at: datetime | None = None  # a hold: kept until then
    pacing_override_reason: str | None = None  # staff booked past the slot's pacing


@dataclass(frozen=True, slots=True)
class Placed:
    booking_id: int
    tables: list[TableRow]  # the booking's own row's table first

    @property
    def numbers(self) -> list[int]:
        return sorted(t.table_number for t in self.tables)


def _best_fit(table: TableRow) -> tuple[int, int]:
    return table.capacity, table.table_number


def check_table(table: TableRow | None, table_id: int, party_size: int) -> TableRow:
    """A table asked for by id, if it can take the party (422 otherwise)."""
    if table is None:
        raise TableNotBookable(f"Table {table_id} does not exist")
    if not table.bookable:
        raise TableNotBookable(f"Table {table.table_number} is not taking bookings")
    if table.capacity < party_size:
        raise TableNotBookable(
            f"Table {table.table_number} seats {table.capacity}, the party is {party_size}"
        )
    return table


async def chosen_combination(conn: Conn, combination_id: int, party_size: int) -> Combination:
    combination = await combinations.find(conn, combination_id)
    if combination is None:
        raise TableNotBookable(f"Combination {combination_id} does not exist")
    if combination.capacity < party_size:
        raise TableNotBookable(
            f"Tables {'+'.join(map(str, combination.table_numbers))} seat "
            f"{combination.capacity} together, the party is {party_size}"
        )
    return combination


async def _seated_there(
    conn: Conn, table: TableRow, slot: Slot, venue: Venue, now: datetime
) -> bool:
    """A party seated at the table now is still there when the slot starts (read again,
    under the table's lock)."""
    current = await sql.table_row(conn, table.id)
    seated = availability.occupancy([current] if current else [], venue, now)
    return availability.blocks(seated.get(table.id), slot.starts_at, slot.ends_at)


async def on_table(
    conn: Conn, table: TableRow, row: Row, slot: Slot, day_: date, venue: Venue,
    now: datetime,
) -> int | None:  # fmt: skip
    """The new row's id on this table, or None (taken; nothing written)."""
    await table_day_lock(conn, table.id, day_)
    if slot.starts_at < now + MAX_DURATION and await _seated_there(conn, table, slot, venue, now):
        return None
    await claims.expire_holds(conn, table.id, slot.starts_at, slot.ends_at, now)
    try:
        return await sql.insert_if_free(
            conn, user_id=row.user_id, guest_id=row.guest_id, source=row.source,
            table_id=table.id, party_size=row.party_size, starts_at=slot.starts_at,
            ends_at=slot.ends_at, special_requests=row.special_requests, now=now,
            hold_expires_at=row.hold_expires_at, pacing_override_reason=row.pacing_override_reason,
        )  # fmt: skip
    except IntegrityError as exc:  # the exclusion constraint caught an overlap
        raise TableUnavailable() from exc


async def on_combination(
    conn: Conn, combination: Combination, row: Row, slot: Slot, day_: date, venue: Venue,
    now: datetime, staff: bool,
) -> Placed | None:  # fmt: skip
    """The booking on every table of the combination, or None (one is taken, or not
    bookable, or not booked by this caller's channel; nothing written)."""
    tables = [await sql.table_row(conn, table_id) for table_id in combination.table_ids]
    members = [
        t for t in tables if t is not None and t.bookable and availability.may_book(t, staff)
    ]
    if len(members) != len(tables):
        return None
    for table in sorted(members, key=_best_fit):
        await table_day_lock(conn, table.id, day_)
    start, end = slot.starts_at, slot.ends_at
    free = {t.id for t in await sql.free_tables_at(conn, 1, start, end, now)}
    if any(t.id not in free for t in members):
        return None
    if start < now + MAX_DURATION:
        for table in members:
            if await _seated_there(conn, table, slot, venue, now):
                return None
    for table in members:
        await claims.expire_holds(conn, table.id, start, end, now)
    first, *others = members
    try:
        booking_id = await sql.insert_if_free(
            conn, user_id=row.user_id, guest_id=row.guest_id, source=row.source,
            table_id=first.id, party_size=row.party_size, starts_at=start, ends_at=end,
            special_requests=row.special_requests, now=now, hold_expires_at=row.hold_expires_at,
            pacing_override_reason=row.pacing_override_reason,
        )  # fmt: skip
        if booking_id is None:
            return None
        for table in others:
            added = await claims.insert_companion_if_free(
                conn, booking_id=booking_id, table_id=table.id, party_size=row.party_size,
                source=row.source, status="held" if row.hold_expires_at else "confirmed",
                hold_expires_at=row.hold_expires_at, starts_at=start, ends_at=end, now=now,
            )  # fmt: skip
            if not added:
                await conn.execute(claims.DROP_PLACED, {"booking_id": booking_id})
                return None
    except IntegrityError as exc:  # the exclusion constraint caught an overlap
        raise TableUnavailable() from exc
    return Placed(booking_id, members)


async def place(
    conn: Conn,
    row: Row,
    *,
    venue: Venue,
    slot: Slot,
    day: date,
    table_id: int | None,
    combination_id: int | None,
    now: datetime,
    staff: bool,
) -> Placed | None:
    """The table asked for, the combination asked for, or the best fit: one free table
    that seats the party, smallest first; when none is free, the free combination with
    the fewest seats that seats it. Guests get online tables only, staff in_house ones
    too (availability.may_book). None: nothing free (nothing written)."""
    party = row.party_size
    if combination_id is not None:
        combination = await chosen_combination(conn, combination_id, party)
        return await on_combination(conn, combination, row, slot, day, venue, now, staff)
    if table_id is not None:
        table = check_table(await sql.table_row(conn, table_id), table_id, party)
        booking_id = await on_table(conn, table, row, slot, day, venue, now)
        return None if booking_id is None else Placed(booking_id, [table])
    free = await sql.free_tables_at(conn, party, slot.starts_at, slot.ends_at, now)
    for table in (t for t in free if availability.may_book(t, staff)):
        booking_id = await on_table(conn, table, row, slot, day, venue, now)
        if booking_id is not None:
            return Placed(booking_id, [table])
    for combination in combinations.fitting(await combinations.read_all(conn), party):
        placed = await on_combination(conn, combination, row, slot, day, venue, now, staff)
        if placed is not None:
            return placed
    return None
