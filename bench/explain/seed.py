"""--explain's data: N confirmed bookings with generate_series, none overlapping, with the
indexes and the exclusion constraint rebuilt after the insert."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any


async def seed_explain(conn: Any, n: int, *, years: float, start: datetime, order: str) -> str:
    """N confirmed bookings with generate_series, round-robin over the tables: table k mod T
    gets its j-th booking at start + j * spacing, shorter than spacing, so none overlap."""
    from sqlalchemy import text

    tables = [row[0] for row in await conn.execute(text("SELECT id FROM tables ORDER BY id"))]
    per_table = math.ceil(n / len(tables))
    spacing_min = max(2, int(years * 365.25 * 24 * 60 // per_table))
    duration_min = min(90, spacing_min - 1)
    ids = ",".join(str(int(t)) for t in tables)
    sort = "random()" if order == "random" else "k"
    # DELETE, not TRUNCATE: other tables reference bookings (and CASCADE would empty them).
    await conn.execute(text("DELETE FROM bookings"))
    started = time.perf_counter()
    # Building the indexes and the exclusion constraint once after the insert is much faster
    # than maintaining them row by row; their definitions are read back from the catalog and
    # re-created as they were (re-adding the constraint also proves no two bookings overlap).
    constraints = (
        await conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'bookings'::regclass AND contype = 'x'"
            )
        )
    ).all()
    indexes = (
        await conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = 'bookings'::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            )
        )
    ).all()
    await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    await conn.execute(text("SET LOCAL work_mem = '256MB'"))
    for name, _ in constraints:
        await conn.execute(text(f'ALTER TABLE bookings DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        await conn.execute(text(f'DROP INDEX "{name}"'))
    await conn.execute(
        text(
            "INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, status,"
            " created_at, updated_at) "
            "SELECT NULL, (ARRAY[" + ids + "])[1 + k % CAST(:t AS int)], 2 + k % 3, "
            "CAST(:start AS timestamptz) + k / CAST(:t AS int) * make_interval(mins => :every), "
            "CAST(:start AS timestamptz) + k / CAST(:t AS int) * make_interval(mins => :every)"
            " + make_interval(mins => :duration), "
            "'confirmed', now(), now() "
            "FROM generate_series(0, CAST(:n AS int) - 1) AS k ORDER BY " + sort
        ),
        {"t": len(tables), "start": start, "every": spacing_min, "duration": duration_min,
         "n": n},
    )  # fmt: skip
    inserted = time.perf_counter()
    for _, definition in indexes:
        await conn.execute(text(definition))
    for name, definition in constraints:
        await conn.execute(text(f'ALTER TABLE bookings ADD CONSTRAINT "{name}" {definition}'))
    took = time.perf_counter() - started
    return (
        f"{n:,} bookings over {years:g} years from {start:%Y-%m-%d}: {len(tables)} tables, "
        f"one every {spacing_min} min per table, {duration_min} min each, inserted in "
        f"{'random' if order == 'random' else 'start-time'} order ({took:.1f} s: insert "
        f"{inserted - started:.1f} s, indexes and constraint {took - inserted + started:.1f} s)"
    )
