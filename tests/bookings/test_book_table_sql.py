"""app/bookings/sql/book_table.sql is what the migrated PostgreSQL database runs."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from sqlalchemy import text

from tests.conftest import TestDatabase

pytestmark = pytest.mark.postgres_only


SOURCE = files("app.bookings").joinpath("sql/book_table.sql").read_text()


SCHEMA = "book_table_source"


# Each function's full definition as PostgreSQL prints it, without its schema's name.
DEFINITION = text(
    "SELECT p.proname, regexp_replace(pg_get_functiondef(p.oid), "
    "'FUNCTION [a-z_]+\\.', 'FUNCTION ') FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = :schema AND p.proname = ANY(:names)"
)


def _functions(sql: str) -> list[str]:
    return re.findall(r"CREATE (?:OR REPLACE )?FUNCTION (\w+)\(", sql)


async def _definitions(db: TestDatabase, sql: str) -> tuple[dict[str, str], dict[str, str]]:
    """(migrated, from `sql`): each function's definition in the migrated database, and
    as `sql` defines it (installed in a schema of its own, then rolled back)."""
    names = _functions(sql)
    async with db.database.engine.connect() as conn:
        query = {"schema": "public", "names": names}
        migrated = {name: body for name, body in (await conn.execute(DEFINITION, query)).all()}
    engine = db.database.engine.execution_options(isolation_level="READ COMMITTED")
    async with engine.connect() as conn, conn.begin() as transaction:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.execute(text(f"SET LOCAL search_path = {SCHEMA}, public"))
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute(sql)
        query = {"schema": SCHEMA, "names": names}
        installed = {name: body for name, body in (await conn.execute(DEFINITION, query)).all()}
        await transaction.rollback()
    return migrated, installed


async def test_the_migrated_database_runs_the_source_file(db: TestDatabase) -> None:
    assert sorted(_functions(SOURCE)) == ["book_table", "booking_lock_key"]
    migrated, from_file = await _definitions(db, SOURCE)
    assert sorted(migrated) == ["book_table", "booking_lock_key"]
    for name, definition in migrated.items():
        assert from_file[name] == definition, f"{name} differs from book_table.sql"


async def test_the_comparison_sees_a_changed_body(db: TestDatabase) -> None:
    """The check above is not vacuous: a changed line in the file is a difference."""
    changed = SOURCE.replace("ORDER BY t.capacity, t.table_number", "ORDER BY t.table_number")
    assert changed != SOURCE
    migrated, from_file = await _definitions(db, changed)
    assert from_file["book_table"] != migrated["book_table"]
    assert from_file["booking_lock_key"] == migrated["booking_lock_key"]
