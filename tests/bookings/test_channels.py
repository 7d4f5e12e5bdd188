"""Table channels: guests book (and see) online tables only, staff online and in_house
ones, and walk_in tables are never booked ahead (app/bookings/availability.py may_book,
service.py, changes.py, and book_table's filter on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.bookings import service
from app.bookings.schemas import BookingCreate
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    LONDON,
    Headers,
    Params,
    book,
    booked,
    configure,
    next_weekday,
    seat_walk_in,
    table_id,
)

PHONE_GUEST = {"name": "Grace Hopper", "email": "grace@example.com"}


async def set_channel(client: AsyncClient, admin: Headers, number: int, channel: str) -> Any:
    tid = await table_id(client, admin, number)
    response = await client.put(f"/api/tables/{tid}", json={"channel": channel}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["channel"] == channel
    return response.json()


async def only_table_1_in_house(client: AsyncClient, admin: Headers) -> None:
    """Table 1 (2 seats) is in_house, every other table walk_in."""
    await set_channel(client, admin, 1, "in_house")
    for number in range(2, 21):
        await set_channel(client, admin, number, "walk_in")


async def check(client: AsyncClient, day: date, at: str, party: int, headers: Headers) -> Any:
    params: Params = {"date": day.isoformat(), "party_size": party, "time": at}
    response = await client.get("/bookings/availability", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_tables_have_a_channel_online_by_default(client: AsyncClient, admin: Headers) -> None:
    tables = (await client.get("/api/tables", headers=admin)).json()
    assert {t["channel"] for t in tables} == {"online"}
    made = await client.post(
        "/api/tables",
        json={"table_number": 30, "capacity": 4, "channel": "in_house"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["channel"] == "in_house"
    wrong = await client.post(
        "/api/tables", json={"table_number": 31, "capacity": 4, "channel": "vip"}, headers=admin
    )
    assert wrong.status_code == 422, wrong.text
    await set_channel(client, admin, 30, "walk_in")


@pytest.fixture(params=["ahead", "today"])
async def day(
    request: pytest.FixtureRequest, app: FastAPI, client: AsyncClient, admin: Headers
) -> date:
    """A Friday ahead (from the availability cache on PostgreSQL), or today with the
    clock at 10:00 London, so 19:00 is inside 12 hours (never from the cache)."""
    if request.param == "ahead":
        return next_weekday(FRIDAY, at_least_days=2)
    await configure(client, admin, timezone="Europe/London")
    today = datetime.now(LONDON).date()
    now = datetime.combine(today, time(10), tzinfo=LONDON).astimezone(UTC)
    app.state.clock = lambda: now
    return today


async def test_guests_see_online_tables_only_staff_in_house_too(
    client: AsyncClient, admin: Headers, staff: Headers, day: date
) -> None:
    await set_channel(client, admin, 1, "in_house")
    await set_channel(client, admin, 2, "walk_in")
    ids = {n: await table_id(client, admin, n) for n in (1, 2)}
    guest_view = await check(client, day, "19:00", 2, {})
    guest_ids = {t["id"] for t in guest_view["available_tables"]}
    assert ids[1] not in guest_ids and ids[2] not in guest_ids and guest_ids
    staff_view = await check(client, day, "19:00", 2, staff)
    staff_ids = {t["id"] for t in staff_view["available_tables"]}
    assert ids[1] in staff_ids and ids[2] not in staff_ids
    assert staff_ids - guest_ids == {ids[1]}
    # The day view counts the same tables.
    params: Params = {"date": day.isoformat(), "party_size": 2}
    guest_day = (await client.get("/bookings/availability", params=params)).json()
    staff_day = (await client.get("/bookings/availability", params=params, headers=staff)).json()
    at = {s["time"]: s for s in guest_day["slots"]}["19:00"]
    staff_at = {s["time"]: s for s in staff_day["slots"]}["19:00"]
    assert at["available_tables"] == len(guest_ids)
    assert staff_at["available_tables"] == len(staff_ids)
    # A token that is not valid is a guest's view, never an error.
    bad = await check(client, day, "19:00", 2, {"Authorization": "Bearer nonsense"})
    assert {t["id"] for t in bad["available_tables"]} == guest_ids


async def test_guests_book_online_staff_in_house_nobody_walk_in(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers, day: date
) -> None:
    await only_table_1_in_house(client, admin)
    ids = {n: await table_id(client, admin, n) for n in (1, 2)}

    seen = await check(client, day, "19:00", 2, {})
    assert seen["bookable"] is False and seen["reason"]["code"] == "no_table"
    refused = await book(client, guest, day, "19:00", 2)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "no_table"
    for number, words in ((1, "not booked online"), (2, "walk-ins")):
        asked = await book(client, guest, day, "19:00", 2, table_id=ids[number])
        assert asked.status_code == 422, asked.text
        assert words in asked.json()["detail"]

    made = await booked(client, staff, day, "19:00", 2, guest=PHONE_GUEST, source="phone")
    assert made["table_number"] == 1
    # The only in_house table is taken; walk_in tables are never booked ahead.
    again = await book(client, staff, day, "19:00", 2, guest=PHONE_GUEST, source="phone")
    assert again.status_code == 409, again.text
    walk = await book(client, staff, day, "21:00", 2, table_id=ids[2], guest=PHONE_GUEST)
    assert walk.status_code == 422, walk.text
    assert "walk-ins" in walk.json()["detail"]
    # A guest cannot move a booking onto an in_house table either.
    await set_channel(client, admin, 3, "online")
    own = await booked(client, guest, day, "21:00", 2)
    assert own["table_number"] == 3
    moved = await client.patch(f"/bookings/{own['id']}", json={"table_id": ids[1]}, headers=guest)
    assert moved.status_code == 422, moved.text


async def test_walk_in_tables_are_still_seated_through_the_floor(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    await set_channel(client, admin, 2, "walk_in")
    seated = await seat_walk_in(client, staff, 2)
    assert seated["status"] == "occupied"


@pytest.mark.postgres_only
async def test_book_table_walks_online_tables_only(
    db: TestDatabase, client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    """The single-statement path itself (book_table) never books an in_house or walk_in
    table for a guest: it gives no row, and nothing is written."""
    await only_table_1_in_house(client, admin)
    user, _ = await make_user()
    day = next_weekday(FRIDAY, at_least_days=2)
    now = datetime.now(UTC)
    for table in (None, await table_id(client, admin, 1), await table_id(client, admin, 2)):
        data = BookingCreate.model_validate(
            {"date": day.isoformat(), "time": "19:00", "party_size": 2, "table_id": table}
        )
        async with db.database.connect(write=False) as conn:
            assert await service.book_at_once(conn, data, user_id=user.id, now=now) is None
    await set_channel(client, admin, 2, "online")
    data = BookingCreate.model_validate({"date": day.isoformat(), "time": "19:00", "party_size": 2})
    async with db.database.connect(write=False) as conn:
        made = await service.book_at_once(conn, data, user_id=user.id, now=now)
    assert made is not None and made.table_number == 2


async def test_a_table_made_walk_in_strands_its_bookings(
    client: AsyncClient, admin: Headers, guest: Headers
) -> None:
    day = next_weekday(FRIDAY, at_least_days=2)
    made = await booked(client, guest, day, "19:00", 2, table_id=await table_id(client, admin, 1))
    tid = made["table_id"]
    refused = await client.put(f"/api/tables/{tid}", json={"channel": "walk_in"}, headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["booking_ids"] == [made["id"]]
    moved = await client.put(
        f"/api/tables/{tid}",
        json={"channel": "walk_in"},
        params={"cancel_affected": "true"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert [m["id"] for m in moved.json()["moved"]] == [made["id"]]
