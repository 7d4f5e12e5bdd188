"""Advisory locks (PostgreSQL) for what must not interleave; no-ops on SQLite, where a
write request holds the database's single write lock from its first statement."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, bindparam, func, literal, select

from app.db.statements import Conn, Query


class LockSpace:
    """First key of PostgreSQL's two-key advisory locks: one number per kind of thing."""

    TABLE = 1001  # a table's floor state (seating, merging)
    IDEMPOTENCY = 1002
    TABLE_DAY = 1003  # a table's bookings on one local date
    ACCOUNT = 1004  # one account's bookings (fair use) and its guest record
    GUEST_CONTACT = 1005  # finding or making the guest record of an e-mail or phone
    PACING = 1006  # the covers starting in one slot interval (a paced service)
    WEBHOOKS = 1020  # turning webhook events into deliveries, one process at a time
    WAITLIST_DAY = 1007  # the waitlist of one local date: offers made, confirmed, lapsed


_ADVISORY_LOCK = Query(
    select(
        func.pg_advisory_xact_lock(
            bindparam("space", type_=Integer()), bindparam("key", type_=Integer())
        )
    )
)


async def advisory_xact_lock(conn: Conn, space: int, key: int) -> None:
    """Hold a transaction-scoped advisory lock on PostgreSQL (released at commit/rollback).

    On SQLite this is a no-op: write requests already hold the database's single write
    lock from their first statement (BEGIN IMMEDIATE).
    """
    if conn.dialect_name != "postgresql":
        return
    key = (key & 0xFFFFFFFF) - (1 << 32 if key & 0x80000000 else 0)  # fit int4
    await conn.fetch(_ADVISORY_LOCK, {"space": space, "key": key})


_TABLE_DAY_LOCK = Query(
    select(
        func.pg_advisory_xact_lock(
            literal(LockSpace.TABLE_DAY, Integer()),
            func.booking_lock_key(
                bindparam("table_id", type_=Integer()), bindparam("day", type_=Date())
            ),
        )
    )
)


async def table_day_lock(conn: Conn, table_id: int, day: date) -> None:
    """Serialise everything that books one table on one local date.

    A booking ends by its service's closing time, so two bookings can only overlap when
    they start on the same local date: bookings of one table on different days, or of
    different tables, never wait for each other. The key comes from the database's
    booking_lock_key (migration 0009), which its book_table function uses too. (Two
    (table, day) pairs sharing a key only wait for each other; nothing goes wrong.)
    On SQLite, as advisory_xact_lock, a no-op.
    """
    if conn.dialect_name == "postgresql":
        await conn.fetch(_TABLE_DAY_LOCK, {"table_id": table_id, "day": day})


async def pacing_lock(conn: Conn, interval_start: datetime) -> None:
    """Serialise the bookings (and changes) that add covers to one slot interval of a
    paced service: pacing counts across tables, so the table-and-day locks alone would
    let two bookings of different tables both pass the check. Keyed by the interval's
    start in whole minutes since 1970 (fits int4 until the year 6053). Taken after the
    account's or guest's lock and before any table-and-day lock, in every path. On
    SQLite, as advisory_xact_lock, a no-op."""
    await advisory_xact_lock(conn, LockSpace.PACING, int(interval_start.timestamp() // 60))
