"""The host stand's live stream (GET /api/floor/stream, app/floor/stream.py): every change
to a table or a booking made through the API shows up on a stream read from a real
server, resumes after the last event seen, opens with the stream cookie, and the
database's triggers (migration 0017) write the events whoever changes the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, insert, select, text

from app.auth.models import Role
from app.bookings import service as bookings_service
from app.bookings.models import Booking
from app.floor.models import FloorEvent, RestaurantTable
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    Json,
    booked,
    next_weekday,
    seat_walk_in,
    table_id,
)
from tests.servers import FAST_STREAM, EventReader, live_server

WEB = {"X-Requested-With": "restaurant-web"}
Change = tuple[str, int, str]  # (kind, id, change)


async def saw(screen: EventReader, *wanted: Change) -> list[Json]:
    """Read events until each wanted one has come (an action may send several: seating
    a party changes its booking and its table); fail if one does not come in time."""
    missing, seen = set(wanted), []
    while missing:
        (event,) = await screen.next()
        data = event["data"]
        assert event["event"] == f"{data['kind']}_changed", event
        assert set(data) == {"kind", "id", "change", "at"}, data
        assert datetime.fromisoformat(data["at"]).tzinfo is not None
        seen.append(event)
        missing.discard((data["kind"], data["id"], data["change"]))
    ids = [int(e["id"]) for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    return seen


def kinds(events: list[Json]) -> set[Change]:
    return {(e["data"]["kind"], e["data"]["id"], e["data"]["change"]) for e in events}


async def ok(response: httpx.Response) -> Json:
    assert response.status_code in (200, 201, 204), response.text
    return dict(response.json()) if response.content else {}


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_every_floor_change_made_through_the_api_reaches_a_live_stream(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    _, guest = await make_user(Role.customer)
    t3, t4, t6, t7, t9, t10 = [
        await table_id(client, staff, n) for n in (3, 4, 6, 7, 9, 10)
    ]  # fmt: skip
    friday = next_weekday(FRIDAY)
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/floor/stream", headers=staff) as response,
    ):
        screen = EventReader(response)
        # An admin drags a table on the plan.
        await ok(await client.put(f"/api/tables/{t6}", json={"pos_x": 300, "pos_y": 40},
                                  headers=admin))  # fmt: skip
        await saw(screen, ("table", t6, "updated"))

        # A guest books (on PostgreSQL in one statement, book_table), changes, cancels.
        mine = await booked(client, guest, friday, "19:00", 2, table_id=t3)
        await saw(screen, ("booking", mine["id"], "created"))
        await ok(await client.patch(f"/bookings/{mine['id']}", json={"party_size": 3},
                                    headers=guest))  # fmt: skip
        await saw(screen, ("booking", mine["id"], "updated"))
        await ok(await client.delete(f"/bookings/{mine['id']}", headers=staff))
        await saw(screen, ("booking", mine["id"], "updated"))

        # A walk-in is seated, leaves, the table is cleaned; a refused action sends nothing.
        refused = await client.post(f"/api/tables/{t9}/clean", headers=staff)
        assert refused.status_code == 409
        await seat_walk_in(client, staff, 7)
        await saw(screen, ("table", t7, "updated"))
        await ok(await client.post(f"/api/tables/{t7}/release", headers=staff))
        await saw(screen, ("table", t7, "updated"))
        await ok(await client.post(f"/api/tables/{t7}/clean", headers=staff))
        await saw(screen, ("table", t7, "updated"))

        # Two tables merged for a party.
        await ok(await client.post(f"/api/tables/merge-tables/{t9}/{t10}", headers=staff))
        await saw(screen, ("table", t9, "updated"), ("table", t10, "updated"))

        # A table added and removed.
        added = await ok(await client.post("/api/tables", json={"table_number": 50,
                                           "capacity": 2}, headers=admin))  # fmt: skip
        await saw(screen, ("table", added["id"], "created"))
        await ok(await client.delete(f"/api/tables/{added['id']}", headers=admin))
        await saw(screen, ("table", added["id"], "deleted"))

        # Staff take a phone booking, then the evening: one party seated and gone, one
        # that never came.
        phoned = await booked(client, staff, friday, "19:00", 4, table_id=t4,
                              guest={"name": "Pat Phone", "phone": "+44 20 7946 0000"},
                              source="phone")  # fmt: skip
        await saw(screen, ("booking", phoned["id"], "created"))
        party = await booked(client, guest, friday, "19:00", 2, table_id=t3)
        await saw(screen, ("booking", party["id"], "created"))
        app.state.clock = lambda: datetime.fromisoformat(party["starts_at"])
        await ok(await client.post(f"/bookings/{party['id']}/seat", headers=staff))
        await saw(screen, ("booking", party["id"], "updated"), ("table", t3, "updated"))
        await ok(await client.post(f"/bookings/{phoned['id']}/no-show", headers=staff))
        await saw(screen, ("booking", phoned["id"], "updated"))
        app.state.clock = lambda: datetime.fromisoformat(party["starts_at"]) + timedelta(hours=1)
        await ok(await client.post(f"/bookings/{party['id']}/complete", headers=staff))
        await saw(screen, ("booking", party["id"], "updated"), ("table", t3, "updated"))


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_a_browser_follows_the_floor_with_the_cookie_and_resumes(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    answer = await client.post("/auth/session/stream", headers={**staff, **WEB})
    assert answer.status_code == 204, answer.text
    cookie = {"Cookie": f"restaurant_stream={answer.cookies['restaurant_stream']}"}
    t1, t2 = await table_id(client, staff, 1), await table_id(client, staff, 2)
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        async with http.stream("GET", "/api/floor/stream", headers=cookie) as response:
            screen = EventReader(response)
            await ok(await client.put(f"/api/tables/{t1}", json={"rotation": 45}, headers=admin))
            (first,) = await saw(screen, ("table", t1, "updated"))
        # Missed while away: replayed in order from Last-Event-ID (or `after`), then live.
        for n in (1, 2):
            await ok(await client.put(f"/api/tables/{t2}", json={"pos_x": n, "pos_y": n},
                                      headers=admin))  # fmt: skip
        for headers, params in (
            ({**cookie, "Last-Event-ID": first["id"]}, None),
            (cookie, {"after": first["id"]}),
        ):
            async with http.stream(
                "GET", "/api/floor/stream", headers=headers, params=params
            ) as response:
                replayed = await EventReader(response).next(2)
                assert [e["data"]["id"] for e in replayed] == [t2, t2]
                assert int(replayed[0]["id"]) > int(first["id"])


async def test_the_floor_stream_is_for_staff(client: AsyncClient, make_user: UserFactory) -> None:
    _, customer = await make_user(Role.customer)
    _, staff = await make_user(Role.staff)
    assert (await client.get("/api/floor/stream")).status_code == 401
    assert (await client.get("/api/floor/stream", headers=customer)).status_code == 403
    forged = {"Cookie": "restaurant_stream=forged"}
    assert (await client.get("/api/floor/stream", headers=forged)).status_code == 401
    huge = await client.get("/api/floor/stream", params={"after": "9" * 20}, headers=staff)
    assert huge.status_code == 422


async def _events_since(db: TestDatabase, after: int) -> list[Change]:
    async with db.database.reader() as session:
        rows = await session.scalars(
            select(FloorEvent).where(FloorEvent.id > after).order_by(FloorEvent.id)
        )
        return [(r.kind, r.subject_id, r.change) for r in rows]


async def _last_event(db: TestDatabase) -> int:
    async with db.database.reader() as session:
        return int(await session.scalar(select(func.coalesce(func.max(FloorEvent.id), 0))) or 0)


async def test_the_triggers_write_events_whoever_changes_the_rows(db: TestDatabase) -> None:
    """Plain SQL statements, no application code: the triggers still write the events
    (and keep doing so at head, which a later rebuild of the tables on SQLite would
    silently undo), and a rolled-back change leaves none."""
    start = await _last_event(db)
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    async with db.database.writer() as session, session.begin():
        await session.execute(text("UPDATE tables SET area = 'terrace' WHERE table_number = 5"))
        five = await session.scalar(text("SELECT id FROM tables WHERE table_number = 5"))
        new_table = (await session.execute(
            insert(RestaurantTable).values(table_number=60, capacity=2, area="main",
                                           bookable=True, created_at=now)
            .returning(RestaurantTable.id)
        )).scalar_one()  # fmt: skip
        booking = (await session.execute(
            insert(Booking).values(table_id=new_table, party_size=2, created_at=now,
                                   updated_at=now, starts_at=now + timedelta(days=1),
                                   ends_at=now + timedelta(days=1, hours=2))
            .returning(Booking.id)
        )).scalar_one()  # fmt: skip
        await session.execute(text("UPDATE bookings SET status = 'cancelled' WHERE id = :id"),
                              {"id": booking})  # fmt: skip
        await session.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": booking})
        await session.execute(text("DELETE FROM tables WHERE id = :id"), {"id": new_table})
    assert await _events_since(db, start) == [
        ("table", five, "updated"),
        ("table", new_table, "created"),
        ("booking", booking, "created"),
        ("booking", booking, "updated"),
        ("booking", booking, "deleted"),
        ("table", new_table, "deleted"),
    ]
    middle = await _last_event(db)
    with pytest.raises(RuntimeError):
        async with db.database.writer() as session, session.begin():
            await session.execute(text("UPDATE tables SET area = 'x' WHERE table_number = 6"))
            raise RuntimeError("rolled back")
    assert await _events_since(db, middle) == []


@pytest.mark.postgres_only
async def test_a_booking_made_in_one_statement_writes_its_event(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """book_table (the fast path) inserts outside the ORM: its trigger writes the event."""

    async def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the transactional path ran")

    monkeypatch.setattr(bookings_service, "create_booking_idempotent", refuse)
    _, guest = await make_user(Role.customer)
    start = await _last_event(db)
    made = await booked(client, guest, next_weekday(FRIDAY, at_least_days=3), "19:00", 2)
    assert await _events_since(db, start) == [("booking", made["id"], "created")]
