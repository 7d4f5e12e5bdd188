"""The statements the app sends for one slot: captured from its availability functions,
and the ones inside book_table, planned by auto_explain in a rolled-back call."""

from __future__ import annotations

from datetime import date
from typing import Any

from bench.explain.plans import PlanInfo, auto_explained


def probe_slot(venue: Any, day: date, hhmm: str, party_size: int) -> Any:
    """The venue's slot at `hhmm` local on `day` for the party, or None if it has none."""
    wanted = tuple(map(int, hhmm.split(":")))
    return next(
        (s for s in venue.slots(day, party_size)
         if (s.local_time.hour, s.local_time.minute) == wanted),
        None,
    )  # fmt: skip


async def capture_app_queries(
    database: Any, day: date, hhmm: str, party_size: int
) -> list[tuple[str, str, Any]]:
    """Run the app's own availability functions for one slot; return (label, sql, params)
    of every statement they sent, exactly as the driver received it."""

    from sqlalchemy import event

    from app.bookings import availability
    from app.bookings.statements import free_tables_at
    from app.db.base import utcnow
    from app.db.statements import session_conn
    from app.venue import service as venue_service

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    out: list[tuple[str, str, Any]] = []
    try:
        async with database.reader() as session:
            venue = await venue_service.venue_for(session)
            slot = probe_slot(venue, day, hhmm, party_size)
            if slot is None:
                raise SystemExit(f"bench: {day} has no {hhmm} slot for a party of {party_size}")
            # The app's Query objects run through SQLAlchemy Core here (the same SQL as the
            # server sends straight to asyncpg), so the cursor events see them.
            conn = await session_conn(session)
            captured.clear()
            # What GET /bookings/availability runs to find alternatives (and the day view).
            await availability.day_plan(conn, venue, day, party_size, utcnow())
            out += [("day_plan", sql, params) for sql, params in captured]
            # What a slot check and POST /bookings run to pick a table (the booking's
            # checked insert uses the same NOT EXISTS overlap lookup).
            captured.clear()
            await free_tables_at(conn, party_size, slot.starts_at, slot.ends_at, utcnow())
            out += [("free_tables_at", sql, params) for sql, params in captured]
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    return out


# The statements of book_table (migration 0009) worth showing, by how their text starts.
BOOK_TABLE_STATEMENTS = {
    "book_table: the account's guest": "SELECT g.id, g.name, g.phone, g.email",
    "book_table: fair use": "SELECT EXISTS (",
    "book_table: free fitting tables": "SELECT t.id, t.table_number FROM tables t",
    "book_table: checked insert": "INSERT INTO bookings",
}


async def book_table_plans(database: Any, day: date, hhmm: str, party_size: int) -> list[
    tuple[str, PlanInfo, PlanInfo, PlanInfo]
]:  # fmt: skip
    """The plans of the statements inside one POST /bookings on PostgreSQL: the app's own
    book_table call (app.bookings.statements.BOOK_TABLE), run in a transaction that is
    rolled back, with auto_explain reporting the nested statements' plans (ANALYZE,
    BUFFERS). plpgsql keeps a plan per session: the 1st call (in a new session) plans for
    its values, the 6th may use the generic plan; then the generic plan is forced. Returns
    (label, 1st, 6th, forced generic) per statement, or nothing (and says why) where
    auto_explain cannot be loaded or the call fails."""
    from app.bookings.statements import BOOK_TABLE, book_table_params
    from app.db.base import utcnow
    from app.db.statements import NativeConn
    from app.venue import service as venue_service

    async with database.reader() as session:
        venue = await venue_service.venue_for(session)
    slot = probe_slot(venue, day, hhmm, party_size)
    if slot is None:
        print(f"\n(book_table plans not shown: {day} has no {hhmm} slot for {party_size})")
        return []
    notices: list[str] = []
    runs: list[dict[str, PlanInfo]] = []
    async with database.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        raw.add_log_listener(lambda _c, message: notices.append(message.message))
        try:
            try:
                await raw.execute("LOAD 'auto_explain'")
                for setting in ("log_min_duration = 0", "log_analyze = on", "log_buffers = on",
                                "log_nested_statements = on", "log_format = json",
                                "log_level = notice"):  # fmt: skip
                    await raw.execute(f"SET auto_explain.{setting}")
            except Exception as exc:  # not a superuser, or no auto_explain: say so, go on
                print(f"\n(book_table plans not shown: {type(exc).__name__}: {exc})")
                return []
            native = NativeConn(raw, database.engine.dialect, database.cache_key)
            for run in range(7):
                if run == 6:
                    await raw.execute("SET plan_cache_mode = force_generic_plan")
                # The earlier runs' rolled-back rows would be read as dead index entries.
                await raw.execute("VACUUM bookings, users")
                transaction = raw.transaction()
                await transaction.start()
                try:
                    user_id = await raw.fetchval(
                        "INSERT INTO users (email, name, hashed_password, role, is_active, "
                        "created_at) VALUES ('explain@example.com', 'Explain', 'x', "
                        "'customer', true, now()) RETURNING id"
                    )
                    await raw.execute(
                        "INSERT INTO guests (name, email, user_id, tags, created_at, "
                        "updated_at) VALUES ('Explain', 'explain@example.com', $1, '[]', "
                        "now(), now())",
                        user_id,
                    )
                    notices.clear()
                    params = book_table_params(
                        user_id=user_id, slot=slot, day=day, party_size=party_size,
                        table_id=None, special_requests=None, now=utcnow(), max_active=4,
                    )  # fmt: skip
                    await native.fetchrow(BOOK_TABLE, params)
                except Exception as exc:  # report it, keep the rest of --explain
                    print(f"\n(book_table plans not shown: call {run + 1} failed: {exc})")
                    return []
                finally:
                    await transaction.rollback()
                plans = {}
                for message in notices:
                    parsed = auto_explained(message)
                    if parsed is None:
                        continue
                    query_text, info = parsed
                    for label, start in BOOK_TABLE_STATEMENTS.items():
                        if " ".join(query_text.split()).startswith(start):
                            plans[label] = info
                runs.append(plans)
        finally:
            await conn.invalidate()  # LOADed and SET: never back into the pool
    first, sixth, generic = runs[0], runs[5], runs[6]
    return [
        (label, first[label], sixth[label], generic[label])
        for label in BOOK_TABLE_STATEMENTS
        if label in first and label in sixth and label in generic
    ]
