"""Booking a table (/bookings, app/bookings/router.py and service.py): a new guest's whole
flow, who sees and cancels what, listing, a chosen table, no table free, the cancel
cutoff, and Idempotency-Key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    availability,
    book,
    booked,
    booking_body,
    configure,
    login_form,
    next_weekday,
    register,
)


async def test_new_user_flow_register_check_book_list_cancel(client: AsyncClient) -> None:
    """The issue's 'done when': register, check 19:00 for 4 next Friday, book, see, cancel."""
    await register(client, email="guest@example.org", password="a table for four", name="G")
    token = (await login_form(client, "guest@example.org", "a table for four")).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    friday = next_weekday(FRIDAY)

    before = (await availability(client, friday, 4, "19:00")).json()
    assert before["available_tables"], before
    first_choice = before["available_tables"][0]
    assert first_choice["capacity"] == 4  # best fit: the smallest table that seats 4

    created = await book(client, headers, friday, "19:00", 4, special_requests="Window please")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "confirmed"
    assert booking["table_id"] == first_choice["id"]
    assert booking["table_number"] == first_choice["table_number"]
    assert booking["special_requests"] == "Window please"
    starts = datetime.fromisoformat(booking["starts_at"])
    ends = datetime.fromisoformat(booking["ends_at"])
    assert starts.utcoffset() is not None and ends - starts == timedelta(minutes=120)
    assert (booking["date"], booking["time"]) == (friday.isoformat(), "19:00")

    during = (await availability(client, friday, 4, "19:00")).json()
    assert first_choice["id"] not in [t["id"] for t in during["available_tables"]]

    mine = (await client.get("/bookings", headers=headers)).json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]]
    assert (await client.get(f"/bookings/{booking['id']}", headers=headers)).status_code == 200

    assert (await client.delete(f"/bookings/{booking['id']}", headers=headers)).status_code == 204
    after = (await availability(client, friday, 4, "19:00")).json()
    assert first_choice["id"] in [t["id"] for t in after["available_tables"]]
    shown = (await client.get(f"/bookings/{booking['id']}", headers=headers)).json()
    assert shown["status"] == "cancelled"
    again = await client.delete(f"/bookings/{booking['id']}", headers=headers)
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]


async def test_others_cannot_see_or_cancel_a_booking(
    client: AsyncClient, make_user: UserFactory, staff: Headers
) -> None:
    _, owner = await make_user(Role.customer)
    _, stranger = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    booking = await booked(client, owner, day, "19:00", 2)
    url = f"/bookings/{booking['id']}"

    for response in (
        await client.get(url, headers=stranger),
        await client.delete(url, headers=stranger),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Booking not found"
    assert (await client.get("/bookings/999999", headers=stranger)).status_code == 404
    assert (await client.get("/bookings", headers=stranger)).json()["total"] == 0
    assert (await client.get(url)).status_code == 401

    assert (await client.get(url, headers=staff)).status_code == 200
    everyone = (await client.get("/bookings", headers=staff)).json()
    assert everyone["total"] == 1
    assert (await client.get(url, headers=owner)).json()["status"] == "confirmed"


async def test_list_filters_order_and_pagination(client: AsyncClient, guest: Headers) -> None:
    day1 = next_weekday(FRIDAY)
    day2 = day1 + timedelta(days=1)
    ids = []
    for day, at in ((day2, "20:00"), (day1, "19:00"), (day1, "13:00"), (day2, "12:00")):
        response = await book(client, guest, day, at, 2)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await client.delete(f"/bookings/{ids[0]}", headers=guest)

    listed = (await client.get("/bookings", headers=guest)).json()
    times = [(b["date"], b["time"]) for b in listed["items"]]
    assert times == sorted(times)  # upcoming first, soonest first
    on_day1 = (
        await client.get("/bookings", params={"date": day1.isoformat()}, headers=guest)
    ).json()
    assert {b["id"] for b in on_day1["items"]} == {ids[1], ids[2]}
    ranged = (
        await client.get(
            "/bookings", params={"from": day2.isoformat(), "to": day2.isoformat()}, headers=guest
        )
    ).json()
    assert {b["id"] for b in ranged["items"]} == {ids[0], ids[3]}
    cancelled = (
        await client.get("/bookings", params={"status": "cancelled"}, headers=guest)
    ).json()
    assert [b["id"] for b in cancelled["items"]] == [ids[0]]
    page = (await client.get("/bookings", params={"limit": 2, "offset": 2}, headers=guest)).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert [b["id"] for b in page["items"]] == [b["id"] for b in listed["items"][2:]]


async def test_explicit_table_and_its_errors(
    client: AsyncClient, guest: Headers, staff: Headers
) -> None:
    day = next_weekday(FRIDAY)
    first = await book(client, staff, day, "19:00", 4, table_id=5)  # another guest's
    assert first.status_code == 201 and first.json()["table_id"] == 5
    taken = await book(client, guest, day, "20:45", 4, table_id=5)
    assert taken.status_code == 409
    assert "already booked" in taken.json()["detail"]
    assert isinstance(taken.json()["alternatives"], list)
    back_to_back = await book(client, guest, day, "21:00", 4, table_id=5)
    assert back_to_back.status_code == 201
    too_small = await book(client, guest, day, "13:00", 4, table_id=1)
    assert too_small.status_code == 422 and "seats 2" in too_small.json()["detail"]
    missing = await book(client, guest, day, "13:00", 2, table_id=999)
    assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]


async def test_no_table_gives_409_with_alternatives(
    client: AsyncClient, guest: Headers, staff: Headers
) -> None:
    day = next_weekday(FRIDAY)
    # Parties of 11 or 12 fit only table 20 (12 seats); another guest has it.
    assert (await book(client, staff, day, "19:00", 12)).status_code == 201
    full = await book(client, guest, day, "19:30", 11)
    assert full.status_code == 409
    body = full.json()
    assert "No table for 11" in body["detail"]
    # 19:00 + 150 min blocks table 20 until 21:30, after the last seating (23:00 - 150 min
    # = 20:30); before, a 150-minute meal must end by 19:00: the nearest three are these.
    assert body["alternatives"] == ["16:00", "16:15", "16:30"]
    staff_view = await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)
    assert staff_view.json()["total"] == 1


async def test_cancel_rules_started_and_cutoff(
    client: AsyncClient,
    app: FastAPI,
    make_user: UserFactory,
    admin: Headers,
    staff: Headers,
    db: TestDatabase,
) -> None:
    user, guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    booking = await booked(client, guest, day, "19:00", 2)
    late = await booked(client, guest, day, "13:00", 2)
    starts = datetime.fromisoformat(booking["starts_at"]).astimezone(UTC)

    await configure(client, admin, cancel_cutoff_minutes=120)
    app.state.clock = lambda: starts - timedelta(minutes=60)
    inside = await client.delete(f"/bookings/{booking['id']}", headers=guest)
    assert inside.status_code == 409 and "120 minutes" in inside.json()["detail"]
    # Staff may still cancel inside the cutoff (a guest phoning in).
    assert (await client.delete(f"/bookings/{booking['id']}", headers=staff)).status_code == 204

    app.state.clock = lambda: datetime.fromisoformat(late["starts_at"]) + timedelta(minutes=1)
    started = await client.delete(f"/bookings/{late['id']}", headers=staff)
    assert started.status_code == 409 and "already started" in started.json()["detail"]
    assert user.id == booking["user_id"]


async def test_idempotency_key_replays_and_rejects_other_body(
    client: AsyncClient, make_user: UserFactory, guest: Headers
) -> None:
    _, other = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    body = booking_body(day, "19:00", 2)
    key = {"Idempotency-Key": "abc-123"}
    first = await client.post("/bookings", json=body, headers={**guest, **key})
    second = await client.post("/bookings", json=body, headers={**guest, **key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (await client.get("/bookings", headers=guest)).json()["total"] == 1

    changed = await client.post(
        "/bookings", json={**body, "party_size": 3}, headers={**guest, **key}
    )
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()["detail"]
    # Another user's identical key is their own.
    theirs = await client.post("/bookings", json=body, headers={**other, **key})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_idempotency_concurrent_retries_create_one_booking(
    client: AsyncClient, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    body = booking_body(day, "19:00", 2)
    headers = {**guest, "Idempotency-Key": "retry-storm"}
    responses = await asyncio.gather(
        *(client.post("/bookings", json=body, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await client.get("/bookings", headers=guest)).json()["total"] == 1
