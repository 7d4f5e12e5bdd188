"""The hot paths' plain connections (app.db.Database.connect and Query), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db import Database, Query
from app.floor.models import RestaurantTable, TableState
from tests.conftest import TestDatabase

_TABLES = RestaurantTable.metadata.tables["tables"]
_COUNT = Query(select(func.count()).select_from(_TABLES))
_ADD = Query(
    insert(_TABLES),
    columns=["table_number", "capacity", "area", "bookable", "state", "created_at"],
)
_BY_NUMBER = Query(
    select(_TABLES.c.id, _TABLES.c.state, _TABLES.c.created_at).where(
        _TABLES.c.table_number == bindparam("number")
    )
)


def _row(number: int) -> dict[str, object]:
    return {
        "table_number": number, "capacity": 4, "area": "main", "bookable": True,
        "state": TableState.available, "created_at": datetime(2030, 1, 1, 12, tzinfo=UTC),
    }  # fmt: skip


async def _count(database: Database) -> int:
    async with database.connect(write=False) as conn:
        return int(await conn.fetchval(_COUNT))


async def test_write_commits_and_values_come_back_typed(db: TestDatabase) -> None:
    before = await _count(db.database)
    async with db.database.connect(write=True) as conn:
        await conn.execute(_ADD, _row(101))
    assert await _count(db.database) == before + 1
    async with db.database.connect(write=False) as conn:
        row = await conn.fetchrow(_BY_NUMBER, {"number": 101})
    assert row is not None
    assert row[1] is TableState.available  # the column's type converted it
    assert row[2] == datetime(2030, 1, 1, 12, tzinfo=UTC) and row[2].tzinfo is UTC


async def test_error_rolls_the_write_back(db: TestDatabase) -> None:
    before = await _count(db.database)
    with pytest.raises(RuntimeError):
        async with db.database.connect(write=True) as conn:
            await conn.execute(_ADD, [_row(102), _row(103)])
            raise RuntimeError("the request failed after writing")
    assert await _count(db.database) == before
    async with db.database.connect(write=False) as conn:
        assert await conn.fetchrow(_BY_NUMBER, {"number": 102}) is None


async def test_constraint_violation_is_an_integrity_error_and_rolls_back(
    db: TestDatabase,
) -> None:
    before = await _count(db.database)
    with pytest.raises(IntegrityError):
        async with db.database.connect(write=True) as conn:
            await conn.execute(_ADD, _row(104))
            await conn.execute(_ADD, _row(104))  # table_number is unique
    assert await _count(db.database) == before


@pytest.mark.postgres_only
async def test_connection_goes_back_to_the_pool_without_an_open_transaction(
    db: TestDatabase,
) -> None:
    """One pooled connection: after a failed write (a value the database refuses, then an
    error in the caller) the next user of that connection is not inside its transaction."""
    database = Database.from_url(db.url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(DBAPIError):
            async with database.connect(write=True) as conn:
                await conn.execute(_ADD, _row(105))
                await conn.fetch(Query(select(text("1/0"))))
        async with database.connect(write=False) as conn:
            driver = conn.driver  # type: ignore[attr-defined]
            assert not driver.is_in_transaction()
            assert await conn.fetchrow(_BY_NUMBER, {"number": 105}) is None
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_dead_connection_is_replaced_by_the_pre_ping(db: TestDatabase) -> None:
    """The server ends the pooled connection (a restart, an idle timeout): the next request
    still gets a working one, because the pool pings before handing it out."""
    database = Database.from_url(db.url, pool_size=1, max_overflow=0)
    backend_pid = Query(select(func.pg_backend_pid()))
    try:
        async with database.connect(write=False) as conn:
            first = await conn.fetchval(backend_pid)
        async with db.database.connect(write=False) as other:
            ended = Query(select(func.pg_terminate_backend(bindparam("pid", type_=None))))
            assert await other.fetchval(ended, {"pid": first}) is True
        async with database.connect(write=False) as conn:
            second = await conn.fetchval(backend_pid)
        assert second != first
    finally:
        await database.dispose()
