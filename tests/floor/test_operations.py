"""What hosts and waiters do with tables (app/floor/operations.py): seat, move, release,
clean, seats, merge; unknown ids; one winner when waiters race; and a walk-in refused
where a booking will need the table."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import UserFactory
from tests.factories import (
    ALL_DAY,
    FRIDAY,
    Headers,
    add_item,
    booked,
    configure,
    get_order,
    line,
    new_order_id,
    next_weekday,
    seat_walk_in,
    seated_at_its_start,
    table_id,
)

# -- Assignment ----------------------------------------------------------------------------


async def test_assign_release_clean_cycle(client: AsyncClient, staff: Headers) -> None:
    tid = await table_id(client, staff, 3)
    order = await new_order_id(client, staff, 2, special_requests="high chair")
    seated = await client.post(f"/api/tables/{tid}/assign/{order}", headers=staff)
    assert seated.status_code == 200
    body = seated.json()
    assert body["status"] == "occupied" and body["is_occupied"] is True
    assert body["current_order_id"] == order
    shown = (await client.get(f"/api/orders/{order}", headers=staff)).json()
    assert shown["table_id"] == tid and shown["status"] == "open"

    other = await new_order_id(client, staff, 2)
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
    big = await new_order_id(client, staff, 6)
    two_top = await table_id(client, staff, 2)
    refused = await client.post(f"/api/tables/{two_top}/assign/{big}", headers=staff)
    assert refused.status_code == 409 and "seats 2" in refused.json()["detail"]


# -- Seats ---------------------------------------------------------------------------------


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


# -- Merge (split bills are in tests/orders/test_bills.py) ---------------------------------


async def test_merge_for_a_large_party_then_release_unmerges(
    client: AsyncClient, staff: Headers
) -> None:
    five, six, seven = [await table_id(client, staff, n) for n in (5, 6, 7)]
    order = await new_order_id(client, staff, 9)
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


# -- Error handling and races --------------------------------------------------------------


async def test_unknown_ids_are_404_and_change_nothing(client: AsyncClient, staff: Headers) -> None:
    order = await new_order_id(client, staff)
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
    orders = [await new_order_id(client, staff, 2) for _ in range(10)]
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


# -- Walk-ins and bookings -----------------------------------------------------------------


async def test_walk_in_refused_where_a_booking_starts_during_its_stay(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    guest: Headers,
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    day = next_weekday(FRIDAY)
    booking = await booked(client, guest, day, "19:00", 2, table_id=1)
    starts = datetime.fromisoformat(booking["starts_at"])
    app.state.clock = lambda: starts - timedelta(minutes=60)  # a party of 2 stays 90 min
    one, two = await table_id(client, staff, 1), await table_id(client, staff, 2)
    walk_in = await new_order_id(client, staff, 2)
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
    early = await new_order_id(client, staff, 2)
    assert (
        await client.post(f"/api/tables/{one}/assign/{early}", headers=staff)
    ).status_code == 200


# -- A booked party leaving ----------------------------------------------------------------


async def test_releasing_a_booked_party_settles_its_order_first(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    """Releasing the table of a seated booking completes the booking only once its order
    is paid; an unpaid one is "settle the bill first" and nothing changes; an empty one
    (seated, never used) is closed with it."""
    booking, seated = await seated_at_its_start(client, app, staff, make_user, table=7)
    order = seated["order"]["id"]
    seven = await table_id(client, staff, 7)
    dish = await add_item(client, admin, "12.00")
    added = await client.put(f"/api/orders/{order}", json={"items": [line(dish)]}, headers=staff)
    assert added.status_code == 200

    for clean in ("false", "true"):
        refused = await client.post(
            f"/api/tables/{seven}/release", params={"clean": clean}, headers=staff
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"].startswith("Settle the bill first")
        assert f"order {order} " in refused.json()["detail"]
    table = (await client.get(f"/api/tables/{seven}", headers=staff)).json()
    assert table["status"] == "occupied" and table["current_order_id"] == order
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "seated"
    assert (await get_order(client, staff, order))["status"] == "open"

    # The party never ordered after all: the order is emptied, and releasing closes it.
    emptied = await client.put(f"/api/orders/{order}", json={"items": []}, headers=staff)
    assert emptied.status_code == 200
    released = await client.post(f"/api/tables/{seven}/release", headers=staff)
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "cleaning"
    assert (await get_order(client, staff, order))["status"] == "closed"
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "completed"


async def test_releasing_a_walk_in_leaves_its_order_to_the_till(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    """Without a booking there is nothing to complete: the table is released and the
    order, paid or not, is left to be closed at the till, as before."""
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 8)
    order = await new_order_id(client, staff, 2, table_id=tid)
    added = await client.put(f"/api/orders/{order}", json={"items": [line(dish)]}, headers=staff)
    assert added.status_code == 200
    released = await client.post(f"/api/tables/{tid}/release", headers=staff)
    assert released.status_code == 200, released.text
    assert (await get_order(client, staff, order))["status"] == "open"


async def test_ordering_while_the_table_is_released_one_wins(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    """A waiter adds a dish to a booked party's empty order while a host releases its
    table: either the release wins (the order closed, the dish refused) or the dish
    does (the release refused, settle the bill first); never a released table with an
    open, unpaid order."""
    dish = await add_item(client, admin)
    real_clock = app.state.clock
    for number in (9, 10, 11):
        app.state.clock = real_clock  # each booking is made ahead, then seated at its start
        booking, seated = await seated_at_its_start(client, app, staff, make_user, table=number)
        order = seated["order"]["id"]
        tid = await table_id(client, staff, number)
        add, release = await asyncio.gather(
            client.put(f"/api/orders/{order}", json={"items": [line(dish)]}, headers=staff),
            client.post(f"/api/tables/{tid}/release", headers=staff),
        )
        shown = await get_order(client, staff, order)
        state = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()["status"]
        if release.status_code == 200:
            assert add.status_code == 409, add.text
            assert (shown["status"], shown["items"], state) == ("closed", [], "completed")
        else:
            assert add.status_code == 200, add.text
            assert release.status_code == 409 and "Settle the bill" in release.json()["detail"]
            assert (shown["status"], state) == ("open", "seated")
            assert len(shown["items"]) == 1
