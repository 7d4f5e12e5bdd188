"""The hot paths' plain connections (app.db.Database.connect and Query), on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

from app.db import engine as db_module
from app.db.engine import Database
from app.db.statements import NativeConn, Query
from app.floor.models import RestaurantTable, TableChannel, TableShape, TableState
from app.main import create_app
from tests.answers import recording
from tests.conftest import TestDatabase, make_settings
from tests.factories import FRIDAY, Headers, booking_body, next_weekday

_TABLES = RestaurantTable.metadata.tables["tables"]


_COUNT = Query(select(func.count()).select_from(_TABLES))


_ADD = Query(
    insert(_TABLES),
    columns=["table_number", "capacity", "area", "bookable", "state", "created_at", "width",
             "height", "shape", "rotation", "channel"],
)  # fmt: skip


_BY_NUMBER = Query(
    select(_TABLES.c.id, _TABLES.c.state, _TABLES.c.created_at).where(
        _TABLES.c.table_number == bindparam("number")
    )
)


def _row(number: int) -> dict[str, object]:
    return {
        "table_number": number, "capacity": 4, "area": "main", "bookable": True,
        "state": TableState.available, "created_at": datetime(2030, 1, 1, 12, tzinfo=UTC),
        "width": 2, "height": 2, "shape": TableShape.square, "rotation": 0,
        "channel": TableChannel.online,
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
            assert isinstance(conn, NativeConn)
            assert not conn.driver.is_in_transaction()
            assert await conn.fetchrow(_BY_NUMBER, {"number": 105}) is None
    finally:
        await database.dispose()


async def _end_pooled_connection(db: TestDatabase, database: Database) -> tuple[int, Any]:
    """Use the one pooled connection, then have the server end it: (its pid, its driver)."""
    async with database.connect(write=False) as conn:
        first = await conn.fetchval(BACKEND_PID)
        assert isinstance(conn, NativeConn)
        driver = conn.driver
    async with db.database.connect(write=False) as other:
        ended = Query(select(func.pg_terminate_backend(bindparam("pid", type_=None))))
        assert await other.fetchval(ended, {"pid": first}) is True
    return first, driver


BACKEND_PID = Query(select(func.pg_backend_pid()))


@pytest.mark.postgres_only
async def test_connection_idle_past_the_limit_is_pinged_and_replaced(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ended a pooled connection that has rested (an idle timeout, a restart
    while quiet): the checkout's ping finds it dead and the pool hands out a new one."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout pings
    database = Database.from_url(db.url, pool_size=1, max_overflow=0)
    try:
        first, _ = await _end_pooled_connection(db, database)
        async with database.connect(write=False) as conn:
            assert await conn.fetchval(BACKEND_PID) != first
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_connection_closed_by_the_server_is_replaced_without_a_ping(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection in steady use is not pinged; once the event loop has read the
    server's close, the checkout sees it closed and the pool replaces it."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never pings
    database = Database.from_url(db.url, pool_size=1, max_overflow=0)
    try:
        first, driver = await _end_pooled_connection(db, database)
        for _ in range(500):  # the close arrives within milliseconds; give it 5 s at most
            if driver.is_closed():
                break
            await asyncio.sleep(0.01)
        assert driver.is_closed()
        async with database.connect(write=False) as conn:
            assert await conn.fetchval(BACKEND_PID) != first
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_connection_that_dies_in_use_fails_its_statement_and_is_not_pooled_again(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the connection while a request holds it: the statement fails as
    OperationalError (a 503 for the request), the connection is given back invalidated
    (the pool of one is free again, not leaked), and the next user gets a new one."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    database = Database.from_url(db.url, pool_size=1, max_overflow=0, pool_timeout=2)
    ended = Query(select(func.pg_terminate_backend(bindparam("pid", type_=None))))
    try:
        for write in (False, True):
            with pytest.raises(OperationalError):
                async with database.connect(write=write) as conn:
                    first = await conn.fetchval(BACKEND_PID)
                    async with db.database.connect(write=False) as other:
                        assert await other.fetchval(ended, {"pid": first}) is True
                    await asyncio.sleep(0.05)
                    await conn.fetchval(BACKEND_PID)
            pool = database.engine.pool
            assert isinstance(pool, QueuePool) and pool.checkedout() == 0
            async with database.connect(write=False) as conn:
                assert await conn.fetchval(BACKEND_PID) != first
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_only_the_worker_commits_without_waiting_for_the_flush(db: TestDatabase) -> None:
    """`restaurant worker` keeps books with synchronous_commit off; the web process (and
    so every booking) always waits for its commit to reach the WAL on disk."""
    worker = Database.from_url(db.url, wait_for_flush=False)
    try:
        for database, expected in ((db.database, "on"), (worker, "off")):
            async with database.engine.connect() as conn:
                setting = (await conn.execute(text("SHOW synchronous_commit"))).scalar_one()
            assert setting == expected
            async with database.writer() as session, session.begin():
                in_writes = (await session.execute(text("SHOW synchronous_commit"))).scalar_one()
            assert in_writes == expected
    finally:
        await worker.dispose()


class PoolWatch:
    """Counts the connections an engine opens and the most it lends out at once."""

    def __init__(self, database: Database) -> None:
        self.opened = self.in_use = self.most_in_use = 0
        engine = database.engine.sync_engine
        event.listen(engine, "connect", self._connect)
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _connect(self, *_: Any) -> None:
        self.opened += 1

    def _checkout(self, *_: Any) -> None:
        self.in_use += 1
        self.most_in_use = max(self.most_in_use, self.in_use)

    def _checkin(self, *_: Any) -> None:
        self.in_use -= 1


@pytest.mark.postgres_only
async def test_a_burst_beyond_the_pool_waits_for_a_connection_instead_of_opening_more(
    db: TestDatabase,
) -> None:
    """With the default settings but a pool of 2, twenty requests at once all succeed,
    through the same two connections: no connection is opened for one request and closed
    after it (with overflow that is a new PostgreSQL backend per request under load)."""
    app = create_app(make_settings(db.url, db_pool_size=2))
    watch = PoolWatch(app.state.db)
    try:
        transport = httpx.ASGITransport(app=recording(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(*(client.get("/health/ready") for _ in range(20)))
        assert [a.status_code for a in answers] == [200] * 20
        assert watch.most_in_use == 2  # the burst did exceed the pool
        assert watch.opened == 2
    finally:
        await app.state.db.dispose()


@pytest.mark.postgres_only
async def test_no_free_connection_within_the_pool_timeout_is_503_busy(db: TestDatabase) -> None:
    """Every connection stays busy past DB_POOL_TIMEOUT: 503 saying so, with Retry-After,
    and nothing about the driver; once one is free the same request is answered."""
    settings = make_settings(db.url, db_pool_size=1, db_pool_timeout=0.2)
    app = create_app(settings)
    login = {"email": "nobody@example.com", "password": "password123"}
    try:
        transport = httpx.ASGITransport(app=recording(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async with app.state.db.connect(write=False):  # the only connection
                busy = await client.post("/users/login", json=login)
            assert busy.status_code == 503
            assert busy.json() == {"detail": "The service is busy; try again shortly"}
            assert busy.headers["retry-after"] == "1"
            assert "QueuePool" not in busy.text and "sqlalche" not in busy.text
            assert (await client.post("/users/login", json=login)).status_code == 401
    finally:
        await app.state.db.dispose()


@pytest.mark.postgres_only
async def test_requests_waiting_for_a_connection_get_one_in_the_order_they_asked(
    db: TestDatabase,
) -> None:
    """With every connection in use, a connection given back goes to the request that
    has waited longest. One that asks just then (its turn on the event loop came before
    the first waiter's) queues behind the waiting ones instead of taking it: SQLAlchemy's
    pool alone would hand it to that newcomer."""
    database = Database.from_url(db.url, pool_size=1, max_overflow=0, pool_timeout=5)
    served: list[str] = []

    async def request(name: str) -> None:
        async with database.connect(write=False) as conn:
            served.append(name)
            await conn.fetchval(_COUNT)

    try:
        holder = database.connect(write=False)
        await holder.__aenter__()
        waiting = []
        for n in range(3):
            waiting.append(asyncio.create_task(request(f"waiting {n}")))
            await asyncio.sleep(0.02)  # it asks, and waits
        late = asyncio.create_task(request("late"))  # its first step runs next
        await holder.__aexit__(None, None, None)  # gives the connection back, no await
        await asyncio.wait_for(asyncio.gather(*waiting, late), 10)
        assert served == ["waiting 0", "waiting 1", "waiting 2", "late"]
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_waiting_past_the_pool_timeout_or_being_cancelled_gives_the_place_up(
    db: TestDatabase,
) -> None:
    """A request that waits longer than DB_POOL_TIMEOUT gets the pool's TimeoutError (503
    busy); one cancelled while it waits (its client went away) or failing while it holds
    the connection leaves no place taken: afterwards the one connection is free at once."""
    database = Database.from_url(db.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with database.connect(write=False):
            with pytest.raises(PoolTimeoutError):
                async with database.connect(write=False):
                    pytest.fail("a connection was handed out twice")
            gone = asyncio.create_task(_count(database))
            await asyncio.sleep(0.05)
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
        for write in (False, True):
            with pytest.raises(RuntimeError):
                async with database.connect(write=write):
                    raise RuntimeError("the request failed")
        for _ in range(3):  # with a place kept, each would wait 0.2 s and raise
            assert await _count(database) >= 0
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_a_booking_finding_no_connection_within_the_pool_timeout_is_503_busy(
    db: TestDatabase, guest: Headers
) -> None:
    """POST /bookings (a hot path, on its own connections) waits its turn like any request:
    past DB_POOL_TIMEOUT it is 503 busy and books nothing; once a connection is free the
    same booking is made."""
    app = create_app(make_settings(db.url, db_pool_size=1, db_pool_timeout=0.2))
    body = booking_body(next_weekday(FRIDAY, at_least_days=3), "19:00", 4)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=recording(app))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                async with app.state.db.connect(write=False):  # the only connection
                    busy = await client.post("/bookings", json=body, headers=guest)
                assert busy.status_code == 503
                assert busy.json() == {"detail": "The service is busy; try again shortly"}
                assert busy.headers["retry-after"] == "1"
                listed = await client.get("/bookings", headers=guest)
                assert listed.json()["total"] == 0
                booked = await client.post("/bookings", json=body, headers=guest)
                assert booked.status_code == 201, booked.text
    finally:
        await app.state.db.dispose()
