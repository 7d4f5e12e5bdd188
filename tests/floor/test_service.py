"""The tables admins edit and the lists hosts read (app/floor/service.py and router.py):
the seeded room, CRUD, roles, what a booked or occupied table refuses, and the
available and occupied lists."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories import FRIDAY, Headers, booked, next_weekday, seat_walk_in, table_id

# -- CRUD ----------------------------------------------------------------------------------


async def test_default_restaurant_has_twenty_tables(client: AsyncClient, staff: Headers) -> None:
    tables = (await client.get("/api/tables", headers=staff)).json()
    assert [t["table_number"] for t in tables] == list(range(1, 21))
    capacities = [t["capacity"] for t in tables]
    assert min(capacities) == 2 and max(capacities) >= 10
    assert capacities.count(2) >= 2 and capacities.count(4) >= 2
    assert {6, 8} <= set(capacities)
    assert {t["area"] for t in tables} >= {"main", "window", "patio"}
    first = tables[0]
    assert first["status"] == "available" and first["is_occupied"] is False
    assert len(first["seats"]) == first["capacity"]


async def test_table_crud(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    created = await client.post(
        "/api/tables", json={"table_number": 21, "capacity": 6, "area": "terrace"}, headers=admin
    )
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert created.json()["status"] == "available"
    duplicate = await client.post(
        "/api/tables", json={"table_number": 21, "capacity": 2}, headers=admin
    )
    assert duplicate.status_code == 409 and "21" in duplicate.json()["detail"]
    updated = await client.put(
        f"/api/tables/{tid}", json={"capacity": 8, "bookable": False}, headers=admin
    )
    assert updated.status_code == 200
    assert (updated.json()["capacity"], updated.json()["bookable"]) == (8, False)
    assert len(updated.json()["seats"]) == 8
    clash = await client.put(f"/api/tables/{tid}", json={"table_number": 1}, headers=admin)
    assert clash.status_code == 409
    assert (await client.get(f"/api/tables/{tid}", headers=staff)).json()["table_number"] == 21
    assert (await client.delete(f"/api/tables/{tid}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/tables/{tid}", headers=staff)).status_code == 404


async def test_table_roles(client: AsyncClient, guest: Headers, staff: Headers) -> None:
    assert (await client.get("/api/tables")).status_code == 401
    for path in ("/api/tables", "/api/tables/1", "/api/tables/occupied/", "/api/tables/available/"):
        assert (await client.get(path, headers=guest)).status_code == 403, path
    for path in (
        "/api/tables/1/assign/1",
        "/api/tables/1/release",
        "/api/tables/1/clean",
        "/api/tables/1/assign-seat/1",
        "/api/tables/1/release-seat/1",
        "/api/tables/merge-tables/1/2",
    ):
        assert (await client.post(path, headers=guest)).status_code == 403, path
    body = {"table_number": 30, "capacity": 2}
    assert (await client.post("/api/tables", json=body, headers=staff)).status_code == 403
    assert (
        await client.put("/api/tables/1", json={"capacity": 3}, headers=staff)
    ).status_code == 403
    assert (await client.delete("/api/tables/1", headers=staff)).status_code == 403


async def test_shrinking_or_deleting_a_booked_table_is_refused(
    client: AsyncClient, admin: Headers, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    booking = await booked(client, guest, day, "19:00", 4, table_id=5)
    shrink = await client.put("/api/tables/5", json={"capacity": 2}, headers=admin)
    assert shrink.status_code == 409
    assert str(booking["id"]) in shrink.json()["detail"]
    assert shrink.json()["booking_ids"] == [booking["id"]]
    removal = await client.delete("/api/tables/5", headers=admin)
    assert removal.status_code == 409 and str(booking["id"]) in removal.json()["detail"]
    assert (
        await client.put("/api/tables/5", json={"capacity": 6}, headers=admin)
    ).status_code == 200


async def test_an_occupied_table_is_not_shrunk_under_its_party(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    table = await seat_walk_in(client, staff, 6, guests=4)
    assert table["capacity"] >= 4
    tid = table["id"]
    assert (await client.post(f"/api/tables/{tid}/assign-seat/4", headers=staff)).status_code == 200
    shrink = await client.put(f"/api/tables/{tid}", json={"capacity": 2}, headers=admin)
    assert shrink.status_code == 409, shrink.text
    assert "occupied; release it before shrinking it" in shrink.json()["detail"]
    view = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert view["capacity"] == table["capacity"] and view["status"] == "occupied"
    assert (
        await client.post(f"/api/tables/{tid}/release-seat/4", headers=staff)
    ).status_code == 200

    grown = await client.put(f"/api/tables/{tid}", json={"capacity": 8}, headers=admin)
    assert grown.status_code == 200 and grown.json()["capacity"] == 8
    assert (
        await client.post(f"/api/tables/{tid}/release?clean=true", headers=staff)
    ).status_code == 200
    shrunk = await client.put(f"/api/tables/{tid}", json={"capacity": 2}, headers=admin)
    assert shrunk.status_code == 200 and shrunk.json()["capacity"] == 2

    one, two = await table_id(client, staff, 1), await table_id(client, staff, 2)
    merged = await client.post(f"/api/tables/merge-tables/{one}/{two}", headers=staff)
    assert merged.status_code == 200, merged.text
    refused = await client.put(f"/api/tables/{one}", json={"capacity": 1}, headers=admin)
    assert refused.status_code == 409 and "merged" in refused.json()["detail"]


# -- Status queries ------------------------------------------------------------------------


async def test_available_and_occupied_lists(client: AsyncClient, staff: Headers) -> None:
    await seat_walk_in(client, staff, 3)
    available = (await client.get("/api/tables/available/", headers=staff)).json()
    assert 3 not in [t["table_number"] for t in available] and len(available) == 19
    big = (
        await client.get("/api/tables/available/", params={"party_size": 9}, headers=staff)
    ).json()
    assert sorted(t["table_number"] for t in big) == [19, 20]
    occupied = (await client.get("/api/tables/occupied/", headers=staff)).json()
    assert [t["table_number"] for t in occupied] == [3]
