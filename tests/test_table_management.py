"""Table & seat management (the template seed's categories), run alone with `make test-tables`:
CRUD, assignment, seats, merge/split, status queries, error handling; plus concurrent
assignment and the reserved status following a booking."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from httpx import AsyncClient

from app.auth.models import Role
from tests.booking_helpers import ALL_DAY, book, configure, next_weekday
from tests.conftest import UserFactory

Headers = dict[str, str]


async def table_id(client: AsyncClient, staff: Headers, number: int) -> int:
    tables = (await client.get("/api/tables", headers=staff)).json()
    return next(t["id"] for t in tables if t["table_number"] == number)


async def new_order(client: AsyncClient, staff: Headers, guests: int = 2, **extra: object) -> int:
    response = await client.post(
        "/api/orders", json={"customer_count": guests, **extra}, headers=staff
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def seat_walk_in(client: AsyncClient, staff: Headers, number: int, guests: int = 2) -> dict:
    tid = await table_id(client, staff, number)
    order = await new_order(client, staff, guests)
    response = await client.post(f"/api/tables/{tid}/assign/{order}", headers=staff)
    assert response.status_code == 200, response.text
    return response.json()


# -- 1. CRUD -----------------------------------------------------------------------------


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


async def test_table_roles(client: AsyncClient, make_user: UserFactory, staff: Headers) -> None:
    _, customer = await make_user(Role.customer)
    assert (await client.get("/api/tables")).status_code == 401
    for path in ("/api/tables", "/api/tables/1", "/api/tables/occupied/", "/api/tables/available/"):
        assert (await client.get(path, headers=customer)).status_code == 403, path
    for path in (
        "/api/tables/1/assign/1",
        "/api/tables/1/release",
        "/api/tables/1/clean",
        "/api/tables/1/assign-seat/1",
        "/api/tables/1/release-seat/1",
        "/api/tables/merge-tables/1/2",
    ):
        assert (await client.post(path, headers=customer)).status_code == 403, path
    body = {"table_number": 30, "capacity": 2}
    assert (await client.post("/api/tables", json=body, headers=staff)).status_code == 403
    assert (
        await client.put("/api/tables/1", json={"capacity": 3}, headers=staff)
    ).status_code == 403
    assert (await client.delete("/api/tables/1", headers=staff)).status_code == 403


async def test_shrinking_or_deleting_a_booked_table_is_refused(
    client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    _, guest = await make_user(Role.customer)
    day = next_weekday(4)
    booking = (await book(client, guest, day, "19:00", 4, table_id=5)).json()
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


# -- 2. Assignment -----------------------------------------------------------------------


async def test_assign_release_clean_cycle(client: AsyncClient, staff: Headers) -> None:
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, 2, special_requests="high chair")
    seated = await client.post(f"/api/tables/{tid}/assign/{order}", headers=staff)
    assert seated.status_code == 200
    body = seated.json()
    assert body["status"] == "occupied" and body["is_occupied"] is True
    assert body["current_order_id"] == order
    shown = (await client.get(f"/api/orders/{order}", headers=staff)).json()
    assert shown["table_id"] == tid and shown["status"] == "open"

    other = await new_order(client, staff, 2)
    busy = await client.post(f"/api/tables/{tid}/assign/{other}", headers=staff)
    assert busy.status_code == 409 and f"occupied by order {order}" in busy.json()["detail"]

    released = (await client.post(f"/api/tables/{tid}/release", headers=staff)).json()
    assert released["status"] == "cleaning" and released["current_order_id"] is None
    assert not any(s["is_occupied"] for s in released["seats"])
    dirty = await client.post(f"/api/tables/{tid}/assign/{other}", headers=staff)
    assert dirty.status_code == 409 and "cleaned" in dirty.json()["detail"]
    again = await client.post(f"/api/tables/{tid}/release", headers=staff)
    assert again.status_code == 409
    clean = (await client.post(f"/api/tables/{tid}/clean", headers=staff)).json()
    assert clean["status"] == "available"
    assert (await client.post(f"/api/tables/{tid}/clean", headers=staff)).status_code == 409
    fast = await client.post(f"/api/tables/{tid}/assign/{other}", headers=staff)
    assert fast.status_code == 200
    quick = await client.post(f"/api/tables/{tid}/release", params={"clean": "true"}, headers=staff)
    assert quick.json()["status"] == "available"


async def test_order_moves_to_another_table(client: AsyncClient, staff: Headers) -> None:
    first = await seat_walk_in(client, staff, 3)
    order = first["current_order_id"]
    target = await table_id(client, staff, 4)
    moved = await client.post(f"/api/tables/{target}/assign/{order}", headers=staff)
    assert moved.status_code == 200 and moved.json()["current_order_id"] == order
    old = (await client.get(f"/api/tables/{first['id']}", headers=staff)).json()
    assert old["status"] == "cleaning" and old["current_order_id"] is None
    assert (await client.get(f"/api/orders/{order}", headers=staff)).json()["table_id"] == target


async def test_order_created_at_a_table_and_too_big_a_party(
    client: AsyncClient, staff: Headers
) -> None:
    tid = await table_id(client, staff, 1)  # 2 seats
    created = await client.post(
        "/api/orders", json={"customer_count": 2, "table_id": tid}, headers=staff
    )
    assert created.status_code == 201 and created.json()["table_id"] == tid
    big = await new_order(client, staff, 6)
    two_top = await table_id(client, staff, 2)
    refused = await client.post(f"/api/tables/{two_top}/assign/{big}", headers=staff)
    assert refused.status_code == 409 and "seats 2" in refused.json()["detail"]


# -- 3. Seats ----------------------------------------------------------------------------


async def test_seats(client: AsyncClient, staff: Headers) -> None:
    table = await seat_walk_in(client, staff, 3)
    tid, order = table["id"], table["current_order_id"]
    for seat in (1, 2):
        response = await client.post(f"/api/tables/{tid}/assign-seat/{seat}", headers=staff)
        assert response.status_code == 200
    seats = {s["seat_number"]: s for s in response.json()["seats"]}
    assert seats[1]["is_occupied"] and seats[2]["is_occupied"] and not seats[3]["is_occupied"]
    assert seats[1]["order_id"] == order
    assert (await client.get(f"/api/orders/{order}", headers=staff)).json()["assigned_seats"] == [
        1, 2]  # fmt: skip

    taken = await client.post(f"/api/tables/{tid}/assign-seat/1", headers=staff)
    assert taken.status_code == 409 and "already taken" in taken.json()["detail"]
    for bad in (0, 5):
        response = await client.post(f"/api/tables/{tid}/assign-seat/{bad}", headers=staff)
        assert response.status_code == 422 and "seats 1 to 4" in response.json()["detail"]
    wrong = await client.post(
        f"/api/tables/{tid}/assign-seat/3", json={"order_id": 999}, headers=staff
    )
    assert wrong.status_code == 409
    ok = await client.post(
        f"/api/tables/{tid}/assign-seat/3", json={"order_id": order}, headers=staff
    )
    assert ok.status_code == 200
    freed = await client.post(f"/api/tables/{tid}/release-seat/2", headers=staff)
    assert {s["seat_number"] for s in freed.json()["seats"] if s["is_occupied"]} == {1, 3}
    assert (
        await client.post(f"/api/tables/{tid}/release-seat/2", headers=staff)
    ).status_code == 409
    empty = await table_id(client, staff, 4)
    no_party = await client.post(f"/api/tables/{empty}/assign-seat/1", headers=staff)
    assert no_party.status_code == 409 and "available" in no_party.json()["detail"]


# -- 4. Merge (split bills are in the orders tests) --------------------------------------


async def test_merge_for_a_large_party_then_release_unmerges(
    client: AsyncClient, staff: Headers
) -> None:
    five, six, seven = [await table_id(client, staff, n) for n in (5, 6, 7)]
    order = await new_order(client, staff, 9)
    merged = await client.post(f"/api/tables/merge-tables/{five}/{six}", headers=staff)
    assert merged.status_code == 200, merged.text
    group = merged.json()
    assert group["table_numbers"] == [5, 6] and group["capacity"] == 10
    seated = await client.post(f"/api/tables/{five}/assign/{order}", headers=staff)
    assert seated.status_code == 200
    assert seated.json()["merged_with"] == [6] and seated.json()["group_capacity"] == 10
    occupied = (await client.get("/api/tables/occupied/", headers=staff)).json()
    assert sorted(t["table_number"] for t in occupied) == [5, 6]
    assert {t["current_order_id"] for t in occupied} == {order}
    # Table 6's seat 1 is the group's seat 5.
    await client.post(f"/api/tables/{six}/assign-seat/1", headers=staff)
    assert (await client.get(f"/api/orders/{order}", headers=staff)).json()["assigned_seats"] == [5]

    third = await client.post(f"/api/tables/merge-tables/{six}/{seven}", headers=staff)
    assert third.status_code == 200 and third.json()["table_numbers"] == [5, 6, 7]
    assert third.json()["status"] == "occupied"

    released = await client.post(f"/api/tables/{six}/release", headers=staff)
    assert released.status_code == 200
    for tid in (five, six, seven):
        view = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
        assert view["status"] == "cleaning" and view["merge_group"] is None
        assert view["merged_with"] == [] and not any(s["is_occupied"] for s in view["seats"])


async def test_merge_errors(client: AsyncClient, staff: Headers) -> None:
    one, two, eight, nine = [await table_id(client, staff, n) for n in (1, 2, 8, 9)]
    itself = await client.post(f"/api/tables/merge-tables/{one}/{one}", headers=staff)
    assert itself.status_code == 422
    await seat_walk_in(client, staff, 1)
    await seat_walk_in(client, staff, 2)
    different = await client.post(f"/api/tables/merge-tables/{one}/{two}", headers=staff)
    assert different.status_code == 409 and "different parties" in different.json()["detail"]
    assert (
        await client.post(f"/api/tables/merge-tables/{eight}/{nine}", headers=staff)
    ).status_code == 200
    ten = await table_id(client, staff, 10)
    eleven = await table_id(client, staff, 11)
    assert (
        await client.post(f"/api/tables/merge-tables/{ten}/{eleven}", headers=staff)
    ).status_code == 200
    cross = await client.post(f"/api/tables/merge-tables/{nine}/{ten}", headers=staff)
    assert cross.status_code == 409 and "already merged" in cross.json()["detail"]
    missing = await client.post(f"/api/tables/merge-tables/{one}/9999", headers=staff)
    assert missing.status_code == 404


# -- 5. Status queries -------------------------------------------------------------------


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


async def test_reserved_appears_and_disappears_with_the_booking(
    client: AsyncClient,
    app,
    staff: Headers,
    admin: Headers,
    make_user: UserFactory,
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    _, guest = await make_user(Role.customer)
    day = next_weekday(4)
    booking = (await book(client, guest, day, "19:00", 4, table_id=5)).json()
    starts = datetime.fromisoformat(booking["starts_at"]).astimezone(UTC)

    def at(moment: datetime) -> None:
        app.state.clock = lambda: moment

    async def status() -> str:
        return (await client.get("/api/tables/5", headers=staff)).json()["status"]

    at(starts - timedelta(minutes=31))
    assert await status() == "available"
    at(starts - timedelta(minutes=20))
    view = (await client.get("/api/tables/5", headers=staff)).json()
    assert view["status"] == "reserved" and view["held_for_booking"]["id"] == booking["id"]
    available = (await client.get("/api/tables/available/", headers=staff)).json()
    assert 5 not in [t["table_number"] for t in available]
    walk_in = await new_order(client, staff, 2)
    refused = await client.post(f"/api/tables/5/assign/{walk_in}", headers=staff)
    assert refused.status_code == 409
    assert f"held for booking {booking['id']}" in refused.json()["detail"]

    at(starts + timedelta(minutes=5))  # late: still held until seated
    assert await status() == "reserved"
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    assert seated.json()["booking"]["status"] == "seated"
    assert await status() == "occupied"
    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert await status() == "cleaning"

    second = (await book(client, guest, day, "21:15", 4, table_id=5)).json()
    await client.post("/api/tables/5/clean", headers=staff)
    at(datetime.fromisoformat(second["starts_at"]) - timedelta(minutes=10))
    assert await status() == "reserved"
    assert (await client.delete(f"/bookings/{second['id']}", headers=guest)).status_code == 204
    assert await status() == "available"


async def test_no_show_frees_the_table(
    client: AsyncClient,
    app,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    _, guest = await make_user(Role.customer)
    booking = (await book(client, guest, next_weekday(4), "19:00", 2, table_id=1)).json()
    starts = datetime.fromisoformat(booking["starts_at"])
    app.state.clock = lambda: starts - timedelta(minutes=10)
    early = await client.post(f"/bookings/{booking['id']}/no-show", headers=staff)
    assert early.status_code == 409 and "not started" in early.json()["detail"]
    app.state.clock = lambda: starts + timedelta(minutes=20)
    assert (await client.get("/api/tables/1", headers=staff)).json()["status"] == "reserved"
    gone = await client.post(f"/bookings/{booking['id']}/no-show", headers=staff)
    assert gone.status_code == 200 and gone.json()["status"] == "no_show"
    assert (await client.get("/api/tables/1", headers=staff)).json()["status"] == "available"
    assert (await client.post(f"/bookings/{booking['id']}/seat", headers=staff)).status_code == 409
    assert (
        await client.post(f"/bookings/{booking['id']}/no-show", headers=guest)
    ).status_code == 403


async def test_walk_in_blocks_bookings_that_overlap_now(
    app: Any, client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    # the restaurant's clock reads 12:00 tomorrow, so "half an hour from now" is inside
    # the day's service whatever the time of day the test runs
    london = ZoneInfo("Europe/London")
    tomorrow = datetime.now(london).date() + timedelta(days=1)
    now = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=london)
    app.state.clock = lambda: now
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    await seat_walk_in(client, staff, 1, guests=2)
    _, guest = await make_user(Role.customer)
    slot = now + timedelta(minutes=30)
    refused = await book(client, guest, slot.date(), slot.strftime("%H:%M"), 2, table_id=1)
    assert refused.status_code == 409, refused.text
    params = {"date": slot.date().isoformat(), "time": slot.strftime("%H:%M"), "party_size": 2}
    free = (await client.get("/bookings/availability", params=params)).json()
    assert 1 not in [t["table_number"] for t in free["available_tables"]]
    assert 2 in [t["table_number"] for t in free["available_tables"]]


# -- 6. Error handling -------------------------------------------------------------------


async def test_unknown_ids_are_404_and_change_nothing(client: AsyncClient, staff: Headers) -> None:
    order = await new_order(client, staff)
    for path in (
        f"/api/tables/9999/assign/{order}",
        "/api/tables/9999/release",
        "/api/tables/9999/clean",
        "/api/tables/9999/assign-seat/1",
    ):
        response = await client.post(path, headers=staff)
        assert response.status_code == 404, path
        assert "9999" in response.json()["detail"]
    unknown_order = await client.post("/api/tables/1/assign/424242", headers=staff)
    assert unknown_order.status_code == 404 and "424242" in unknown_order.json()["detail"]
    assert (await client.get("/api/tables/1", headers=staff)).json()["status"] == "available"
    assert (await client.get("/api/orders/424242", headers=staff)).status_code == 404


async def test_concurrent_assignment_one_waiter_wins(client: AsyncClient, staff: Headers) -> None:
    tid = await table_id(client, staff, 4)
    orders = [await new_order(client, staff, 2) for _ in range(10)]
    responses = await asyncio.gather(
        *(client.post(f"/api/tables/{tid}/assign/{o}", headers=staff) for o in orders)
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 9, statuses
    winner = orders[statuses.index(200)]
    view = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert view["current_order_id"] == winner


async def test_concurrent_seat_assignment_one_wins(client: AsyncClient, staff: Headers) -> None:
    table = await seat_walk_in(client, staff, 6, guests=4)
    responses = await asyncio.gather(
        *(client.post(f"/api/tables/{table['id']}/assign-seat/2", headers=staff) for _ in range(10))
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 9, statuses


async def test_walk_in_refused_where_a_booking_starts_during_its_stay(
    client: AsyncClient,
    app,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    _, guest = await make_user(Role.customer)
    day = next_weekday(4)
    booking = (await book(client, guest, day, "19:00", 2, table_id=1)).json()
    starts = datetime.fromisoformat(booking["starts_at"])
    app.state.clock = lambda: starts - timedelta(minutes=60)  # a party of 2 stays 90 min
    one, two = await table_id(client, staff, 1), await table_id(client, staff, 2)
    walk_in = await new_order(client, staff, 2)
    refused = await client.post(f"/api/tables/{one}/assign/{walk_in}", headers=staff)
    assert refused.status_code == 409
    assert f"booking {booking['id']}" in refused.json()["detail"]
    assert (await client.get(f"/api/tables/{one}", headers=staff)).json()["status"] == "available"
    listed = (
        await client.get("/api/tables/available/", params={"party_size": 2}, headers=staff)
    ).json()
    assert 1 not in [t["table_number"] for t in listed] and 2 in [t["table_number"] for t in listed]
    assert (
        await client.post(f"/api/tables/{two}/assign/{walk_in}", headers=staff)
    ).status_code == 200

    app.state.clock = lambda: starts - timedelta(hours=3)
    early = await new_order(client, staff, 2)
    assert (
        await client.post(f"/api/tables/{one}/assign/{early}", headers=staff)
    ).status_code == 200


async def seated_at_its_start(
    client: AsyncClient, app: Any, staff: Headers, make_user: UserFactory, table: int
) -> tuple[dict, dict]:
    """A guest's booking for two at 19:00 next Friday on `table`, seated as it starts:
    (the booking as made, the seat answer)."""
    _, guest = await make_user(Role.customer)
    booking = (await book(client, guest, next_weekday(4), "19:00", 2, table_id=table)).json()
    app.state.clock = lambda: datetime.fromisoformat(booking["starts_at"])
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    return booking, seated.json()


async def test_moving_a_seated_party_keeps_its_booking_seated(
    client: AsyncClient,
    app,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    booking, seated = await seated_at_its_start(client, app, staff, make_user, table=1)
    order = seated["order"]["id"]
    moved = await client.post(
        f"/api/tables/{await table_id(client, staff, 9)}/assign/{order}", headers=staff
    )
    assert moved.status_code == 200
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "seated"
    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    nine = (
        await client.get(f"/api/tables/{await table_id(client, staff, 9)}", headers=staff)
    ).json()
    assert nine["status"] == "cleaning"


async def test_a_booking_is_seated_from_its_hold_window_not_before(
    client: AsyncClient,
    app,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    await configure(client, admin, hold_minutes=30)
    _, guest = await make_user(Role.customer)
    booking = (await book(client, guest, next_weekday(4), "19:00", 2, table_id=1)).json()
    starts = datetime.fromisoformat(booking["starts_at"])

    app.state.clock = lambda: starts - timedelta(days=30)
    early = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert early.status_code == 409, early.text
    assert "can be seated from" in early.json()["detail"]
    assert "18:30" in early.json()["detail"]
    app.state.clock = lambda: starts - timedelta(minutes=31)
    assert (await client.post(f"/bookings/{booking['id']}/seat", headers=staff)).status_code == 409
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "confirmed"
    assert (await client.get("/api/tables/1", headers=staff)).json()["status"] == "available"
    assert (await client.get("/api/orders", headers=staff)).json()["total"] == 0

    app.state.clock = lambda: starts - timedelta(minutes=29)
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    assert seated.json()["booking"]["status"] == "seated"


async def test_cancelling_a_seated_bookings_order_confirms_the_booking_again(
    client: AsyncClient,
    app,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    booking, first = await seated_at_its_start(client, app, staff, make_user, table=2)
    cancelled = await client.delete(f"/api/orders/{first['order']['id']}", headers=staff)
    assert cancelled.status_code in (200, 204), cancelled.text

    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "confirmed"
    assert (await client.get("/api/tables/2", headers=staff)).json()["status"] == "reserved"

    again = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert again.status_code == 200, again.text
    assert again.json()["order"]["id"] != first["order"]["id"]
    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert (await client.get("/api/tables/2", headers=staff)).json()["status"] == "cleaning"

    # The party has left (the table was released, the order is still open): cancelling
    # the order now leaves the completed booking, and its link to the order, as they are.
    second = again.json()["order"]["id"]
    assert (await client.delete(f"/api/orders/{second}", headers=staff)).status_code in (200, 204)
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "completed"
    assert (await client.get(f"/api/orders/{second}", headers=staff)).json()["booking_id"] == (
        booking["id"]
    )
