"""Table combinations: an admin lets tables be joined for one large party; availability
offers a combination only when no single table fits; a booking on one takes every member
table, so single-table and combination bookings never share a table, even racing."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from app.auth.models import Role
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    Json,
    availability,
    book,
    booked,
    configure,
    next_weekday,
    table_id,
)


async def combine(client: AsyncClient, admin: Headers, numbers: list[int], capacity: int) -> Json:
    ids = [await table_id(client, admin, n) for n in numbers]
    response = await client.post(
        "/api/tables/combinations", json={"table_ids": ids, "capacity": capacity}, headers=admin
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def eleven_twelve(client: AsyncClient, admin: Headers) -> Json:
    """Tables 11 and 12 (six seats each) joined seat 14; parties of 14 are taken."""
    await configure(client, admin, max_party_size=14)
    return await combine(client, admin, [11, 12], 14)


async def overlaps(db: TestDatabase) -> int:
    """Pairs of rows keeping one table at overlapping times (0 whatever the database)."""
    async with db.database.engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM bookings a JOIN bookings b ON a.table_id = b.table_id "
                "AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                "WHERE a.status IN ('confirmed', 'seated') "
                "AND b.status IN ('confirmed', 'seated')"
            )
        )
    return int(found or 0)


async def test_admin_defines_lists_and_deletes_combinations(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    made = await combine(client, admin, [12, 11], 14)
    assert made["table_numbers"] == [11, 12] and made["capacity"] == 14
    listed = await client.get("/api/tables/combinations", headers=staff)
    assert listed.status_code == 200 and listed.json() == [made]
    eleven = await table_id(client, admin, 11)
    twelve = await table_id(client, admin, 12)
    body = {"table_ids": [eleven, twelve], "capacity": 12}
    again = await client.post("/api/tables/combinations", json=body, headers=admin)
    assert again.status_code == 409, again.text
    for who in (staff, guest):
        refused = await client.post(
            "/api/tables/combinations", json={"table_ids": [eleven, 1], "capacity": 8}, headers=who
        )
        assert refused.status_code == 403, refused.text
        gone = await client.delete(f"/api/tables/combinations/{made['id']}", headers=who)
        assert gone.status_code == 403
    assert (await client.get("/api/tables/combinations")).status_code == 401
    assert (
        await client.delete(f"/api/tables/combinations/{made['id']}", headers=admin)
    ).status_code == 204
    assert (await client.get("/api/tables/combinations", headers=staff)).json() == []
    missing = await client.delete(f"/api/tables/combinations/{made['id']}", headers=admin)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"table_ids": [1], "capacity": 4}, "at least 2"),
        ({"table_ids": [1, 1], "capacity": 4}, "twice"),
        ({"table_ids": [1, 99999], "capacity": 4}, "99999"),
        ({"table_ids": [11, 12], "capacity": 6}, "more than their largest"),
        ({"table_ids": [11, 12], "capacity": 500}, "200"),
    ],
)
async def test_a_bad_combination_is_a_clear_422_and_nothing_is_made(
    client: AsyncClient, admin: Headers, body: Json, says: str
) -> None:
    ids = {n: await table_id(client, admin, n) for n in (1, 11, 12)}
    sent = {**body, "table_ids": [ids.get(n, n) for n in body["table_ids"]]}
    response = await client.post("/api/tables/combinations", json=sent, headers=admin)
    assert response.status_code == 422, response.text
    assert says in response.text
    assert (await client.get("/api/tables/combinations", headers=admin)).json() == []


async def test_availability_offers_a_combination_only_when_no_single_table_fits(
    client: AsyncClient, eleven_twelve: Json
) -> None:
    day = next_weekday(FRIDAY, at_least_days=3)
    fourteen = (await availability(client, day, 14, "19:00")).json()
    assert fourteen["available_tables"] == []
    assert [c["table_numbers"] for c in fourteen["available_combinations"]] == [[11, 12]]
    six = (await availability(client, day, 6, "19:00")).json()
    assert six["available_tables"] and six["available_combinations"] == []
    slots = (await availability(client, day, 14)).json()["slots"]
    assert slots and all(s["available_tables"] == 1 for s in slots)


async def test_the_fewest_wasted_seats_come_first(
    client: AsyncClient, admin: Headers, eleven_twelve: Json
) -> None:
    await combine(client, admin, [14, 15], 18)  # eight seats each
    await combine(client, admin, [19, 20], 24)
    day = next_weekday(FRIDAY, at_least_days=3)
    await configure(client, admin, max_party_size=20)
    offered = (await availability(client, day, 14, "19:00")).json()["available_combinations"]
    assert [c["capacity"] for c in offered] == [14, 18, 24]
    assert [c["capacity"] for c in (await availability(client, day, 16, "19:00")).json()[
        "available_combinations"]] == [18, 24]  # fmt: skip


async def test_a_party_of_fourteen_books_the_combination_and_it_holds_both_tables(
    client: AsyncClient, make_user: UserFactory, staff: Headers, eleven_twelve: Json,
    db: TestDatabase,
) -> None:  # fmt: skip
    _, big = await make_user(Role.customer)
    _, small = await make_user(Role.customer)
    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, big, day, "19:00", 14)
    assert booking["table_numbers"] == [11, 12] and booking["table_number"] == 11
    eleven, twelve = eleven_twelve["table_ids"]
    for table in (eleven, twelve):
        refused = await book(client, small, day, "19:30", 2, table_id=table)
        assert refused.status_code == 409, refused.text
        assert refused.json()["alternatives"], refused.text
    # The staff day list shows it once, with both tables.
    listed = (await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)).json()
    assert [(b["id"], b["table_numbers"]) for b in listed["items"]] == [(booking["id"], [11, 12])]
    assert (await client.get(f"/bookings/{booking['id']}", headers=big)).json()[
        "table_numbers"] == [11, 12]  # fmt: skip
    # Nothing else for 14 then: the combination is taken, and no table seats 14.
    full = (await availability(client, day, 14, "19:00")).json()
    assert full["available_combinations"] == [] and full["alternatives"]
    # Cancelling frees every member table.
    assert (await client.delete(f"/bookings/{booking['id']}", headers=big)).status_code == 204
    await booked(client, small, day, "19:30", 2, table_id=twelve)
    assert await overlaps(db) == 0


async def test_changing_a_combination_booking_moves_every_table(
    client: AsyncClient, guest: Headers, make_user: UserFactory, eleven_twelve: Json
) -> None:
    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, guest, day, "19:00", 14)
    moved = await client.patch(f"/bookings/{booking['id']}", json={"time": "20:30"}, headers=guest)
    assert moved.status_code == 200, moved.text
    assert moved.json()["table_numbers"] == [11, 12] and moved.json()["time"] == "20:30"
    _, other = await make_user(Role.customer)
    twelve = eleven_twelve["table_ids"][1]
    await booked(client, other, day, "17:30", 2, table_id=twelve)  # free again at 19:00
    refused = await book(client, other, day, "21:00", 2, table_id=twelve)
    assert refused.status_code == 409
    # Down to a party of six: one table is enough, the other is let go.
    smaller = await client.patch(
        f"/bookings/{booking['id']}", json={"party_size": 6}, headers=guest
    )
    assert smaller.status_code == 200, smaller.text
    assert len(smaller.json()["table_numbers"]) == 1


async def test_a_combination_booking_is_seated_on_merged_tables(
    client: AsyncClient, app: object, guest: Headers, staff: Headers, eleven_twelve: Json
) -> None:
    from datetime import datetime

    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, guest, day, "19:00", 14)
    floor = {t["table_number"]: t for t in (await client.get("/api/tables", headers=staff)).json()}
    app.state.clock = lambda: datetime.fromisoformat(booking["starts_at"])  # type: ignore[attr-defined]
    floor = {t["table_number"]: t for t in (await client.get("/api/tables", headers=staff)).json()}
    for number in (11, 12):
        held = floor[number]["held_for_booking"]
        assert held["id"] == booking["id"] and held["table_numbers"] == [11, 12]
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    floor = {t["table_number"]: t for t in (await client.get("/api/tables", headers=staff)).json()}
    assert floor[11]["merged_with"] == [12] and floor[12]["merged_with"] == [11]
    assert floor[11]["is_occupied"] and floor[12]["is_occupied"]


def _race_bodies(day: date, eleven: int, twelve: int) -> list[Json]:
    bodies: list[Json] = []
    for i in range(30):
        if i % 3 == 0:
            bodies.append({"date": day.isoformat(), "time": "19:00", "party_size": 14})
        else:
            bodies.append({"date": day.isoformat(), "time": "19:30", "party_size": 2,
                           "table_id": eleven if i % 3 == 1 else twelve})  # fmt: skip
    return bodies


async def test_single_and_combination_bookings_racing_never_share_a_table(
    client: AsyncClient, make_user: UserFactory, eleven_twelve: Json, db: TestDatabase,
    staff: Headers,
) -> None:  # fmt: skip
    users = [(await make_user(Role.customer))[1] for _ in range(30)]
    day = next_weekday(FRIDAY, at_least_days=3)
    eleven, twelve = eleven_twelve["table_ids"]
    bodies = _race_bodies(day, eleven, twelve)
    answers = await asyncio.gather(
        *(client.post("/bookings", json=b, headers=h) for b, h in zip(bodies, users, strict=True))
    )
    codes = [a.status_code for a in answers]
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    made = [a.json() for a in answers if a.status_code == 201]
    combined = [b for b in made if len(b["table_numbers"]) == 2]
    singles = [b for b in made if len(b["table_numbers"]) == 1]
    # Either the party of 14 got both tables and nobody else sat there, or singles did.
    assert (len(combined), len(singles)) in {(1, 0), (0, 1), (0, 2)}, made
    assert await overlaps(db) == 0


async def test_retiring_a_member_table_strands_the_whole_combination_booking(
    client: AsyncClient, guest: Headers, admin: Headers, eleven_twelve: Json, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, guest, day, "19:00", 14)
    twelve = eleven_twelve["table_ids"][1]
    asked = await client.put(f"/api/tables/{twelve}", json={"bookable": False}, headers=admin)
    assert asked.status_code == 409, asked.text
    assert [b["id"] for b in asked.json()["affected"]] == [booking["id"]]
    done = await client.put(
        f"/api/tables/{twelve}", params={"cancel_affected": "true"}, json={"bookable": False},
        headers=admin,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert [b["id"] for b in done.json()["cancelled"]] == [booking["id"]]
    shown = await client.get(f"/bookings/{booking['id']}", headers=guest)
    assert shown.json()["status"] == "cancelled"
    async with db.database.engine.connect() as conn:
        statuses = (await conn.execute(
            text("SELECT status FROM bookings WHERE id = :id OR combined_with = :id"),
            {"id": booking["id"]},
        )).scalars().all()  # fmt: skip
    assert sorted(statuses) == ["cancelled", "cancelled"]
