"""What hosts and waiters do with tables: seat, release, clean, seats, merge.

Every action locks the tables it touches first (a PostgreSQL advisory lock per table,
LockSpace.TABLE, then the rows FOR UPDATE; on SQLite the request already holds the write
lock), checks the state, and changes it. Seating a party also takes the booking engine's
table-and-day locks for its stay (_refuse_if_booked), so no booking slips in meanwhile.
Two waiters acting on one table at once: one wins, the other gets a 409.

Locks are taken in one global order, so that two actions never wait for each other in a
cycle (which PostgreSQL would break with a 409 after its deadlock_timeout): first every
table the action needs, with every table merged with them, in one pass in id order
(lock_groups); then booking rows, then order rows; last the bookings' table-and-day
locks. An action that learns which tables it needs from an order or a booking reads it
first without a lock, locks the tables, then locks the row and checks it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking, BookingStatus
from app.db.locks import LockSpace, advisory_xact_lock, table_day_lock
from app.db.statements import session_conn
from app.floor.exceptions import InvalidMerge, InvalidSeat, SeatTaken, TableBusy, TableNotFound
from app.floor.models import RestaurantTable, SeatAssignment, TableState
from app.floor.views import holds
from app.orders import closing
from app.orders.exceptions import OrderNotFound, OrderNotOpen
from app.orders.models import Order, OrderStatus
from app.venue import service as venue_service


async def lock_tables(session: AsyncSession, table_ids: Sequence[int]) -> list[RestaurantTable]:
    """Lock tables in id order (no deadlocks), with their merge groups; return the rows."""
    ids = sorted(set(table_ids))
    conn = await session_conn(session)
    for table_id in ids:
        await advisory_xact_lock(conn, LockSpace.TABLE, table_id)
    rows = list(
        await session.scalars(
            select(RestaurantTable)
            .where(RestaurantTable.id.in_(ids))
            .order_by(RestaurantTable.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    missing = set(ids) - {t.id for t in rows}
    if missing:
        raise TableNotFound(f"Table {min(missing)} not found")
    return rows


async def group_of(session: AsyncSession, table_id: int) -> list[RestaurantTable]:
    """The table and every table merged with it, as they stand (no locks)."""
    table = await session.get(RestaurantTable, table_id)
    if table is None:
        return []
    if table.merge_group is None:
        return [table]
    mates = await session.scalars(
        select(RestaurantTable)
        .where(RestaurantTable.merge_group == table.merge_group)
        .order_by(RestaurantTable.table_number)
    )
    return list(mates)


async def _with_mates(session: AsyncSession, table_ids: Iterable[int]) -> set[int]:
    """The tables and every table merged with one of them, as committed now."""
    ids = set(table_ids)
    groups = select(RestaurantTable.merge_group).where(
        RestaurantTable.id.in_(ids), RestaurantTable.merge_group.is_not(None)
    )
    mates = await session.scalars(
        select(RestaurantTable.id).where(RestaurantTable.merge_group.in_(groups))
    )
    return ids | set(mates)


async def lock_groups(
    session: AsyncSession, table_ids: Sequence[int]
) -> list[list[RestaurantTable]]:
    """Lock the tables and every table merged with any of them, all in one pass in id
    order, and return each asked table's group (ordered by table number).

    The groups are read, then locked, then read again: a merge committed in between
    brings a table that is locked then, after the others (the one case where the order
    can break, and PostgreSQL's deadlock detector answers instead)."""
    held: dict[int, RestaurantTable] = {}
    wanted = await _with_mates(session, table_ids)
    while not wanted <= held.keys():
        for table in await lock_tables(session, sorted(wanted - held.keys())):
            held[table.id] = table
        wanted = await _with_mates(session, table_ids)
    groups = []
    for table_id in table_ids:
        merged = held[table_id].merge_group
        members = [held[table_id]] if merged is None else [
            t for t in held.values() if t.merge_group == merged
        ]  # fmt: skip
        groups.append(sorted(members, key=lambda t: t.table_number))
    return groups


async def lock_group(session: AsyncSession, table_id: int) -> list[RestaurantTable]:
    """The table and every table merged with it, locked, ordered by table number."""
    return (await lock_groups(session, [table_id]))[0]


def refuse_if_too_small(group: Sequence[RestaurantTable], party: int) -> None:
    capacity = sum(t.capacity for t in group)
    if party > capacity:
        raise TableBusy(
            f"Table {group[0].table_number} seats {capacity}, the party is {party}; "
            "merge tables first"
        )


async def _open_order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found")
    if order.status != OrderStatus.open:
        raise OrderNotOpen(f"Order {order.id} is {order.status.value}")
    return order


async def next_booking_clash(
    session: AsyncSession,
    tables: Sequence[RestaurantTable],
    *,
    start: datetime,
    end: datetime,
    except_booking: int | None = None,
) -> Booking | None:
    """The first confirmed booking of these tables that overlaps [start, end)."""
    query = (
        select(Booking)
        .where(
            Booking.table_id.in_([t.id for t in tables]),
            Booking.status == BookingStatus.confirmed,
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
        .order_by(Booking.starts_at)
    )
    if except_booking is not None:  # nor its other tables' rows, for a combination
        query = query.where(
            Booking.id != except_booking,
            or_(Booking.combined_with.is_(None), Booking.combined_with != except_booking),
        )
    return (await session.scalars(query.limit(1))).first()


def _refuse_unless_free(tables: Sequence[RestaurantTable], order: Order | None) -> None:
    for table in tables:
        if table.state == TableState.cleaning:
            raise TableBusy(f"Table {table.table_number} is being cleaned; mark it clean first")
        if table.state == TableState.occupied and (
            order is None or table.current_order_id != order.id
        ):
            raise TableBusy(
                f"Table {table.table_number} is occupied by order {table.current_order_id}"
            )


async def _refuse_if_booked(
    session: AsyncSession, tables: Sequence[RestaurantTable], order: Order | None, now: datetime,
    for_booking: int | None = None,
) -> None:  # fmt: skip
    """Refuse tables another party has booked before this one would finish: a booking held
    now (the hold window) or starting during the party's expected stay. The tables' booking
    locks for the days of that stay are taken first, so no booking slips in meanwhile."""
    venue = await venue_service.venue_for(session)
    guests = order.customer_count if order else sum(t.capacity for t in tables)
    until = now + max(venue.duration_for(guests), venue.hold)
    days = {venue.today(now), venue.today(until)}
    conn = await session_conn(session)
    for table in sorted(tables, key=lambda t: t.id):
        for day in sorted(days):
            await table_day_lock(conn, table.id, day)
    clash = await next_booking_clash(
        session, tables, start=now, end=until,
        except_booking=order.booking_id if order and order.booking_id else for_booking,
    )  # fmt: skip
    if clash is None:
        return
    number = next(t.table_number for t in tables if t.id == clash.table_id)
    at = f"{venue.local(clash.starts_at):%H:%M}"
    clash_id = clash.combined_with or clash.id  # a combination's other table: the booking
    if holds(clash, now, venue.hold):
        reason = f"is held for booking {clash_id} at {at} (party of {clash.party_size})"
    else:
        reason = (
            f"is booked at {at} (booking {clash_id}, party of {clash.party_size}), before a "
            f"party of {guests} would finish (about {venue.local(until):%H:%M})"
        )
    raise TableBusy(f"Table {number} {reason}", booking_id=clash_id)


def _occupy(tables: Sequence[RestaurantTable], order: Order, now: datetime) -> None:
    for table in tables:
        if table.current_order_id != order.id:
            table.occupied_since = now
        table.state = TableState.occupied
        table.current_order_id = order.id
    order.table_id = tables[0].id


async def _vacate(
    session: AsyncSession,
    tables: Sequence[RestaurantTable],
    *,
    clean: bool,
    now: datetime,
    party_left: bool = True,
) -> None:
    """Seats freed, order detached, merge undone, table to cleaning (or available). When
    the party has left (not moved, not a cancelled order) its seated booking is over."""
    order_ids = {t.current_order_id for t in tables if t.current_order_id is not None}
    ids = [t.id for t in tables]
    await session.execute(delete(SeatAssignment).where(SeatAssignment.table_id.in_(ids)))
    for table in tables:
        was_occupied = table.state == TableState.occupied
        table.state = TableState.available if clean or not was_occupied else TableState.cleaning
        table.current_order_id = None
        table.occupied_since = None
        table.merge_group = None
    if party_left and order_ids:  # a booking seated with this order is over
        await session.execute(
            update(Booking)
            .where(
                Booking.id.in_(select(Order.booking_id).where(Order.id.in_(order_ids))),
                Booking.status == BookingStatus.seated,
            )
            .values(status=BookingStatus.completed, updated_at=now)
        )
    await session.flush()


async def assign(
    session: AsyncSession, table_id: int, order_id: int, *, now: datetime,
    booked: bool = False,
) -> list[RestaurantTable]:  # fmt: skip
    """Seat an order at a table (its whole merge group). An order seated elsewhere moves,
    and the table it leaves goes to cleaning. `booked`: the party was booked onto these
    tables (a combination seats what the admin said it seats), so their seats suffice."""
    seen = await session.get(Order, order_id)  # where it sits now: its tables are locked too
    tables = [table_id] if seen is None or seen.table_id is None else [table_id, seen.table_id]
    group = (await lock_groups(session, tables))[0]
    order = await _open_order(session, order_id)
    if all(t.current_order_id == order.id for t in group):
        return group
    _refuse_unless_free(group, order)
    await _refuse_if_booked(session, group, order, now)
    if not booked:
        refuse_if_too_small(group, order.customer_count)
    if order.table_id is not None and order.table_id not in {t.id for t in group}:
        old = await lock_group(session, order.table_id)
        if any(t.current_order_id == order.id for t in old):
            await _vacate(session, old, clean=False, now=now, party_left=False)
    _occupy(group, order, now)
    await session.flush()
    return group


async def release(
    session: AsyncSession, table_id: int, *, clean: bool, now: datetime
) -> list[RestaurantTable]:
    """The party left: the table goes to cleaning (or available) and a booking seated at
    it is completed, once its order is settled (closing.settle_departures)."""
    group = await lock_group(session, table_id)
    table = next(t for t in group if t.id == table_id)
    if table.state == TableState.cleaning and not clean:
        raise TableBusy(f"Table {table.table_number} is already released and being cleaned")
    if table.state == TableState.available and table.merge_group is None:
        raise TableBusy(f"Table {table.table_number} has no party to release")
    await closing.settle_departures(
        session, (t.current_order_id for t in group if t.current_order_id), now=now
    )
    await _vacate(session, group, clean=clean, now=now)
    return group


async def mark_clean(session: AsyncSession, table_id: int) -> RestaurantTable:
    (table,) = await lock_tables(session, [table_id])
    if table.state != TableState.cleaning:
        raise TableBusy(f"Table {table.table_number} is {table.state.value}, not being cleaned")
    table.state = TableState.available
    await session.flush()
    return table


def _check_seat(table: RestaurantTable, seat_number: int) -> None:
    if not 1 <= seat_number <= table.capacity:
        raise InvalidSeat(
            f"Table {table.table_number} has seats 1 to {table.capacity}; "
            f"there is no seat {seat_number}"
        )


async def assign_seat(
    session: AsyncSession, table_id: int, seat_number: int, *, order_id: int | None
) -> RestaurantTable:
    (table,) = await lock_tables(session, [table_id])
    _check_seat(table, seat_number)
    if table.state != TableState.occupied or table.current_order_id is None:
        raise TableBusy(
            f"Table {table.table_number} is {table.state.value}; seat an order at it first"
        )
    if order_id is not None and order_id != table.current_order_id:
        raise TableBusy(
            f"Order {order_id} is not at table {table.table_number} "
            f"(order {table.current_order_id} is)"
        )
    taken = await session.scalar(
        select(SeatAssignment.order_id).where(
            SeatAssignment.table_id == table.id, SeatAssignment.seat_number == seat_number
        )
    )
    if taken is not None:
        raise SeatTaken(f"Seat {seat_number} of table {table.table_number} is already taken")
    session.add(
        SeatAssignment(table_id=table.id, seat_number=seat_number, order_id=table.current_order_id)
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        raise SeatTaken(
            f"Seat {seat_number} of table {table.table_number} is already taken"
        ) from exc
    return table


async def release_seat(session: AsyncSession, table_id: int, seat_number: int) -> RestaurantTable:
    (table,) = await lock_tables(session, [table_id])
    _check_seat(table, seat_number)
    result = await session.execute(
        delete(SeatAssignment).where(
            SeatAssignment.table_id == table.id, SeatAssignment.seat_number == seat_number
        )
    )
    if not getattr(result, "rowcount", 0):
        raise TableBusy(f"Seat {seat_number} of table {table.table_number} is not taken")
    await session.flush()
    return table


async def merge(
    session: AsyncSession, first_id: int, second_id: int, *, now: datetime,
    for_booking: int | None = None,
) -> list[RestaurantTable]:  # fmt: skip
    """Join two tables (or a group and a table) for one party (`for_booking`: the
    booking being seated there, whose own rows do not count against it)."""
    if first_id == second_id:
        raise InvalidMerge()
    first, second = await lock_groups(session, [first_id, second_id])
    a = next(t for t in first if t.id == first_id)
    b = next(t for t in second if t.id == second_id)
    if a.merge_group is not None and a.merge_group == b.merge_group:
        raise TableBusy(f"Tables {a.table_number} and {b.table_number} are already merged")
    if a.merge_group is not None and b.merge_group is not None:
        raise TableBusy(
            f"Table {b.table_number} is already merged with other tables; release it first"
        )
    orders = {t.current_order_id for t in [*first, *second] if t.current_order_id is not None}
    if len(orders) > 1:
        raise TableBusy(
            f"Table {a.table_number} (order {a.current_order_id}) and table "
            f"{b.table_number} (order {b.current_order_id}) seat different parties"
        )
    order = await _open_order(session, orders.pop()) if orders else None
    group = [*first, *second]
    _refuse_unless_free(group, order)
    await _refuse_if_booked(
        session, [t for t in group if t.state != TableState.occupied], order, now, for_booking
    )
    group_id = a.merge_group or b.merge_group or min(a.id, b.id)
    for table in group:
        table.merge_group = group_id
    if order is not None:
        _occupy(sorted(group, key=lambda t: t.table_number), order, now)
    await session.flush()
    return sorted(group, key=lambda t: t.table_number)


async def detach(session: AsyncSession, order: Order, *, now: datetime) -> None:
    """Take a cancelled order off its table: the table is free again (nobody sat down to
    eat), its seats freed and any merge undone."""
    if order.table_id is None:
        return
    group = await lock_group(session, order.table_id)
    if any(t.current_order_id == order.id for t in group):
        await _vacate(session, group, clean=True, now=now, party_left=False)
