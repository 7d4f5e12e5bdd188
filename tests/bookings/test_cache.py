"""The availability cache (app.bookings.cache): days ahead answered from memory on
PostgreSQL, with the same answers as the database gives, and dropped when they change,
whoever changes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from app.auth.models import Role
from app.bookings.cache import ChangePublisher, DayCache, change_payload
from app.bookings.statements import CHANNEL, TableRow
from app.db.engine import Database
from app.floor.models import TableChannel, TableState
from app.main import create_app
from app.venue.calendar import Venue
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, Headers, availability, book, booked, next_weekday


async def eventually(check: Callable[[], Awaitable[bool]], *, seconds: float = 5.0) -> bool:
    """Poll `check` until it holds, for at most `seconds` (a NOTIFY travels between
    connections, so another connection's change arrives a moment later)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)


def cache_of(app: FastAPI) -> DayCache:
    cache: DayCache = app.state.day_cache
    return cache


async def free_ids(client: AsyncClient, day: date, at: str, party: int) -> list[int]:
    response = await availability(client, day, party, at)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["available_tables"]]


@pytest.fixture
async def uncached(db: TestDatabase) -> AsyncIterator[AsyncClient]:
    """A second app on the same database with the cache switched off: the reference."""
    app = create_app(make_settings(db.url, availability_cache=False), database=db.database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=recording(app), client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_cache_is_live_on_postgresql_only(app: FastAPI, backend: str) -> None:
    """SQLite has no LISTEN/NOTIFY, so nothing is kept there; PostgreSQL starts warm."""
    cache = cache_of(app)
    assert cache.live is (backend == "postgres")
    if backend == "postgres":
        assert len(cache) > 0  # the days ahead were read at start-up
    else:
        assert len(cache) == 0


@pytest.mark.postgres_only
async def test_kept_days_give_the_same_answers_as_the_database(
    app: FastAPI, client: AsyncClient, uncached: AsyncClient, staff: Headers
) -> None:
    day = next_weekday(FRIDAY, at_least_days=2)
    for at, party in [("19:00", 2), ("19:00", 4), ("19:30", 4), ("20:00", 6), ("18:00", 8)]:
        assert (await book(client, staff, day, at, party)).status_code == 201
    cache = cache_of(app)
    hits = cache.hits
    for party in (1, 2, 4, 6, 8, 12):
        cached = await availability(client, day, party)
        reference = await availability(uncached, day, party)
        assert cached.status_code == reference.status_code == 200
        assert cached.json() == reference.json()
        for at in ("12:00", "18:00", "19:00", "19:15", "20:30", "21:00"):
            cached = await availability(client, day, party, at)
            reference = await availability(uncached, day, party, at)
            assert cached.status_code == reference.status_code
            assert cached.json() == reference.json(), (party, at)
    assert cache.hits > hits  # the answers did come from memory


@pytest.mark.postgres_only
async def test_a_full_slot_offers_the_same_alternatives_from_memory(
    app: FastAPI, client: AsyncClient, uncached: AsyncClient, guest: Headers
) -> None:
    day = next_weekday(FRIDAY, at_least_days=2)
    # Fill every table that seats 12 at 19:00.
    while await free_ids(client, day, "19:00", 12):
        assert (await book(client, guest, day, "19:00", 12)).status_code == 201
    cached = (await availability(client, day, 12, "19:00")).json()
    reference = (await availability(uncached, day, 12, "19:00")).json()
    assert cached["available_tables"] == [] and cached["alternatives"]
    assert cached == reference


@pytest.mark.postgres_only
async def test_this_process_sees_its_own_booking_and_cancellation_at_once(
    app: FastAPI, client: AsyncClient, guest: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with the NOTIFY held back, a write committed here drops the kept days."""
    monkeypatch.setattr(cache_of(app), "notified", lambda _payload: None)
    day = next_weekday(FRIDAY, at_least_days=2)
    offered = await free_ids(client, day, "19:00", 4)
    created = await book(client, guest, day, "19:00", 4)
    assert created.status_code == 201
    table_id = created.json()["table_id"]
    assert table_id == offered[0]
    assert table_id not in await free_ids(client, day, "19:00", 4)  # no waiting
    cancelled = await client.delete(f"/bookings/{created.json()['id']}", headers=guest)
    assert cancelled.status_code == 204
    assert table_id in await free_ids(client, day, "19:00", 4)


@pytest.mark.postgres_only
async def test_a_booking_written_by_another_connection_reaches_the_cache(
    app: FastAPI, client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    """Another worker (here: a plain SQL insert on another connection) books a table:
    its NOTIFY drops the day, and the table stops being offered."""
    user, _guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY, at_least_days=2)
    slot = (await availability(client, day, 2, "19:00")).json()
    table_id = slot["available_tables"][0]["id"]
    starts_at = datetime.fromisoformat(slot["starts_at"])
    async with db.database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, "
                "status, created_at, updated_at) VALUES (:u, :t, 2, :s, :e, 'confirmed', "
                "now(), now())"
            ),
            {"u": user.id, "t": table_id, "s": starts_at, "e": starts_at + timedelta(hours=2)},
        )

    async def gone() -> bool:
        return table_id not in await free_ids(client, day, "19:00", 2)

    assert await eventually(gone)


@pytest.fixture
async def other_worker(db: TestDatabase) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """A second app on the same database, as a second server process would be: its own
    cache, listener, publisher and connection pool."""
    database = Database.from_url(db.url, pool_size=4, max_overflow=0)
    app = create_app(make_settings(db.url), database=database)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=recording(app), client=("127.0.0.1", 50002))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield app, c
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_a_booking_made_by_another_worker_reaches_this_workers_cache(
    app: FastAPI,
    client: AsyncClient,
    other_worker: tuple[FastAPI, AsyncClient],
    guest: Headers,
) -> None:
    """Worker B books in one statement (its trigger's NOTIFY held back) and announces it
    in a batch: worker A drops the day and stops offering the table."""
    _other_app, other = other_worker
    day = next_weekday(FRIDAY, at_least_days=2)
    hits = cache_of(app).hits
    before = await free_ids(client, day, "19:00", 2)
    assert cache_of(app).hits > hits  # A answers this day from memory
    made = await book(other, guest, day, "19:00", 2)
    assert made.status_code == 201, made.text
    taken = made.json()["table_id"]
    assert taken in before

    async def gone() -> bool:
        return taken not in await free_ids(client, day, "19:00", 2)

    assert await eventually(gone)


@pytest.mark.postgres_only
async def test_book_table_holds_its_notify_back_and_the_app_sends_it_batched(
    app: FastAPI, client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    _, guest = await make_user(Role.customer)
    user, _ = await make_user(Role.customer)  # another guest books the same time around the app
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await db.database.driver_connection()
    await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    try:
        day = next_weekday(FRIDAY, at_least_days=2)
        made = await booked(client, guest, day, "19:00", 2)
        payload = await asyncio.wait_for(heard.get(), timeout=5)
        starts = datetime.fromisoformat(made["starts_at"])
        assert payload == change_payload(starts, datetime.fromisoformat(made["ends_at"]))
        # book_table called around the app: its trigger stays silent...
        async with db.database.engine.begin() as conn:
            around = await conn.execute(text(
                "SELECT new_booking FROM book_table(:u, 2, :s, :e, :earliest, :d, NULL, NULL, "
                "now(), 4)"
            ), {"u": user.id, "s": starts, "e": starts + timedelta(hours=2),
                "earliest": starts - timedelta(hours=12), "d": day})  # fmt: skip
            assert around.scalar_one() is not None  # it booked
            # ...while any other write to bookings still notifies at commit.
            await conn.execute(text("UPDATE bookings SET special_requests = 'x'"))
        later = await asyncio.wait_for(heard.get(), timeout=5)
        assert later == change_payload(starts, datetime.fromisoformat(made["ends_at"]))
        await asyncio.sleep(0.2)
        assert heard.qsize() == 1  # the second booking's UPDATE; nothing from book_table
    finally:
        await listener.close()


async def test_the_publisher_batches_and_splits_payloads_and_flushes_at_close() -> None:
    sent: list[list[str]] = []

    async def send(payloads: list[str]) -> None:
        sent.append(payloads)

    publisher = ChangePublisher(send)
    start = datetime(2030, 6, 7, 18, tzinfo=UTC)
    for n in range(3):
        publisher.changed(start + timedelta(hours=n), start + timedelta(hours=n + 2))
    await asyncio.sleep(publisher.FLUSH_SECONDS * 5)
    first = int(start.timestamp())
    assert sent == [[f"{first} {first + 7200};{first + 3600} {first + 10800};"
                     f"{first + 7200} {first + 14400}"]]  # fmt: skip
    for n in range(1000):  # more than one NOTIFY payload can carry
        publisher.changed(start + timedelta(minutes=n), start + timedelta(minutes=n + 90))
    await publisher.close()  # sends what waits, without waiting for the timer
    assert len(sent) == 2 and len(sent[1]) > 1
    assert all(len(p) <= publisher.MAX_PAYLOAD for p in sent[1])
    assert sum(len(p.split(";")) for p in sent[1]) == 1000
    cache, venue = _live_cache(), _venue()
    day = date(2030, 6, 7)
    cache.put(cache.epoch, venue, day, (TABLE,), {})
    cache.notified(sent[0][0])
    assert cache.get(venue, day) is None
    cache.put(cache.epoch, venue, day, (TABLE,), {})
    cache.notified("1 2;oops")  # a payload it cannot read drops everything
    assert len(cache) == 0


@pytest.mark.postgres_only
async def test_a_table_changed_around_the_app_drops_every_day(
    app: FastAPI, client: AsyncClient, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY, at_least_days=2)
    table_id = (await free_ids(client, day, "19:00", 2))[0]
    cache = cache_of(app)
    assert len(cache) > 0
    async with db.database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE tables SET bookable = false WHERE id = :t"), {"t": table_id}
        )

    async def gone() -> bool:
        return table_id not in await free_ids(client, day, "19:00", 2)

    assert await eventually(gone)
    # A table's floor state (a party seated) is not what a kept day depends on.
    await availability(client, day, 2)
    epoch = cache.epoch
    async with db.database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE tables SET state = 'cleaning' WHERE id <> :t"), {"t": table_id}
        )
        await conn.execute(text("UPDATE tables SET state = 'available'"))
    await asyncio.sleep(0.3)  # a NOTIFY, had one been sent, would have arrived by now
    assert cache.epoch == epoch


@pytest.mark.postgres_only
async def test_nothing_is_kept_while_the_listener_is_away(
    app: FastAPI, client: AsyncClient, db: TestDatabase, guest: Headers
) -> None:
    """The listening connection dies: the cache empties and stops keeping days (answers
    come from the database), and it is back once the listener has reconnected."""
    cache = cache_of(app)
    assert cache.live
    day = next_weekday(FRIDAY, at_least_days=2)
    async with db.database.engine.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = 'LISTEN \"availability\"'"
            )
        )
    assert killed == 1

    async def not_live() -> bool:
        return not cache.live and len(cache) == 0

    assert await eventually(not_live)
    assert (await book(client, guest, day, "19:00", 2)).status_code == 201
    # Meanwhile answers are right, read from the database.
    booked = (await client.get("/bookings", headers=guest)).json()["items"][0]["table_id"]
    assert booked not in await free_ids(client, day, "19:00", 2)

    async def live_again() -> bool:
        return cache.live

    assert await eventually(live_again, seconds=10)
    assert booked not in await free_ids(client, day, "19:00", 2)


# -- the cache's own rules, without a database ---------------------------------------------


def _venue() -> Venue:
    hours = {d: [{"opens": "12:00", "closes": "23:00"}] for d in WEEKDAY_NAMES}
    return Venue.from_settings(
        SimpleNamespace(
            name="Test", timezone="Europe/London", opening_hours=hours, slot_minutes=15,
            durations=[{"max_party_size": 2, "minutes": 90}, {"minutes": 120}],
            lead_minutes=30, horizon_days=90, max_party_size=12, closed_dates=[],
            cancel_cutoff_minutes=0, hold_minutes=15, service_charge_percent=Decimal(0),
            tax_percent=Decimal(0),
        )
    )  # fmt: skip


WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


TABLE = TableRow(1, 1, 2, "main", True, TableChannel.online, TableState.available, None, None, None)


def _live_cache(**kwargs: Any) -> DayCache:
    cache = DayCache(**kwargs)
    cache.open()
    return cache


def test_a_day_read_before_a_change_is_not_kept() -> None:
    venue, cache = _venue(), _live_cache()
    day = date(2030, 6, 7)
    epoch = cache.epoch
    cache.drop(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC))
    cache.put(epoch, venue, day, (TABLE,), {})  # read before the drop: may be stale
    assert cache.get(venue, day) is None
    cache.put(cache.epoch, venue, day, (TABLE,), {})
    assert cache.get(venue, day) is not None


def test_a_change_drops_only_the_days_it_overlaps() -> None:
    venue, cache = _venue(), _live_cache()
    days = [date(2030, 6, 6), date(2030, 6, 7), date(2030, 6, 8)]
    for day in days:
        cache.put(cache.epoch, venue, day, (TABLE,), {})
    booking_start = datetime(2030, 6, 7, 18, tzinfo=UTC)  # 19:00 in London
    cache.notified(f"{int(booking_start.timestamp())} {int(booking_start.timestamp()) + 7200}")
    assert [d for d in days if cache.get(venue, d) is not None] == [days[0], days[2]]
    cache.notified("*")
    assert len(cache) == 0


def test_kept_days_expire_are_bounded_and_belong_to_one_settings_snapshot() -> None:
    venue, other = _venue(), _venue()
    expired = _live_cache(ttl=-1)
    expired.put(expired.epoch, venue, date(2030, 6, 7), (TABLE,), {})
    assert expired.get(venue, date(2030, 6, 7)) is None
    cache = _live_cache(max_days=3)
    for n in range(5):
        cache.put(cache.epoch, venue, date(2030, 6, 1) + timedelta(days=n), (TABLE,), {})
    assert len(cache) == 3 and cache.get(venue, date(2030, 6, 1)) is None
    assert cache.get(other, date(2030, 6, 5)) is None  # settings changed since
    closed = DayCache()
    closed.put(closed.epoch, venue, date(2030, 6, 7), (TABLE,), {})
    assert len(closed) == 0  # not listening: nothing kept


def test_only_days_beyond_the_longest_dining_time_are_kept() -> None:
    venue, cache = _venue(), _live_cache()
    now = datetime(2030, 6, 7, 9, tzinfo=UTC)  # 10:00 in London
    assert not cache.keeps(venue, date(2030, 6, 7), now)  # today: parties sit down now
    assert cache.keeps(venue, date(2030, 6, 8), now)
    late = datetime(2030, 6, 7, 14, tzinfo=UTC)  # 15:00: tomorrow is under 13 h away
    assert not cache.keeps(venue, date(2030, 6, 8), late)
    assert cache.keeps(venue, date(2030, 6, 9), late)
