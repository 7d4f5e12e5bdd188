"""Front of house meets the reservation (app/bookings/arrivals.py): seating a booked party
from its hold window, a no-show, finishing, and a seated booking whose party moves
table or whose order is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    add_item,
    booked,
    configure,
    get_order,
    line,
    move,
    next_weekday,
    seated_at_its_start,
    serve_all,
    table_id,
    tickets_of,
)


async def test_no_show_frees_the_table(
    client: AsyncClient,
    app: FastAPI,
    staff: Headers,
    guest: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2, table_id=1)
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


async def test_a_booking_is_seated_from_its_hold_window_not_before(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    guest: Headers,
) -> None:
    await configure(client, admin, hold_minutes=30)
    booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2, table_id=1)
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


async def test_moving_a_seated_party_keeps_its_booking_seated(
    client: AsyncClient,
    app: FastAPI,
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


async def test_cancelling_a_seated_bookings_order_confirms_the_booking_again(
    client: AsyncClient,
    app: FastAPI,
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

    # The party has left: the order seating opened (never used) was closed with it, so
    # nothing is left open, and it stays linked to the completed booking.
    second = again.json()["order"]["id"]
    closed = await get_order(client, staff, second)
    assert closed["status"] == "closed" and closed["booking_id"] == booking["id"]
    assert (await client.delete(f"/api/orders/{second}", headers=staff)).status_code == 409
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "completed"


async def test_completing_closes_the_empty_order_seating_opened(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    """The order seating opened, never used (or emptied again): completing the booking
    closes it, and cancels what the kitchen was still making for it."""
    booking, seated = await seated_at_its_start(client, app, staff, make_user, table=3)
    order = seated["order"]["id"]
    soup = await add_item(client, admin, "6.50")
    added = await client.put(f"/api/orders/{order}", json={"items": [line(soup)]}, headers=staff)
    assert added.status_code == 200
    (ticket,) = await tickets_of(client, staff, order)
    assert (await move(client, staff, ticket["id"], "preparing")).status_code == 200
    emptied = await client.put(f"/api/orders/{order}", json={"items": []}, headers=staff)
    assert emptied.status_code == 200 and emptied.json()["items"] == []

    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    shown = await get_order(client, staff, order)
    assert shown["status"] == "closed" and shown["closed_at"] is not None
    assert [t["status"] for t in await tickets_of(client, staff, order)] == ["cancelled"]
    assert (await client.get("/api/tables/3", headers=staff)).json()["status"] == "cleaning"


async def test_completing_with_the_bill_unpaid_is_refused_until_it_is_settled(
    client: AsyncClient,
    app: FastAPI,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
) -> None:
    booking, seated = await seated_at_its_start(client, app, staff, make_user, table=4)
    order = seated["order"]["id"]
    steak = await add_item(client, admin, "28.00")
    added = await client.put(f"/api/orders/{order}", json={"items": [line(steak)]}, headers=staff)
    assert added.status_code == 200

    refused = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("Settle the bill first") and f"order {order} " in detail
    assert refused.json()["order_id"] == order
    shown = (await client.get(f"/bookings/{booking['id']}", headers=staff)).json()
    assert shown["status"] == "seated"
    assert (await get_order(client, staff, order))["status"] == "open"
    table = (await client.get("/api/tables/4", headers=staff)).json()
    assert table["status"] == "occupied" and table["current_order_id"] == order

    await serve_all(client, staff, order)
    paid = await client.post(f"/api/orders/{order}/close", headers=staff)
    assert paid.status_code == 200, paid.text
    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    closed = await get_order(client, staff, order)
    assert closed["status"] == "closed" and closed["total"] == "28.00"
    assert (await client.get("/api/tables/4", headers=staff)).json()["status"] == "cleaning"
