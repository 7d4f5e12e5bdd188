"""Holds (POST /bookings/holds): a slot's table kept for a few minutes while a guest fills
in their details. It blocks the table for everyone else, under the same locks and
constraint as bookings; it becomes the booking with POST /bookings {hold_id}; and the
instant it expires the table is free again, for availability and for bookings, with no
background job."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import FRIDAY, Headers, Json, availability, book, booking_body, next_weekday

DAY = next_weekday(FRIDAY, at_least_days=3)


async def hold(client: AsyncClient, headers: Headers, day: date = DAY, at: str = "19:00",
               party: int = 2, **extra: object) -> Json:  # fmt: skip
    response = await client.post(
        "/bookings/holds", json=booking_body(day, at, party, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def free_numbers(answer: Json) -> list[int]:
    return [t["table_number"] for t in answer["available_tables"]]


async def test_a_hold_keeps_its_table_and_becomes_the_booking(
    client: AsyncClient, app: FastAPI, make_user: UserFactory, staff: Headers
) -> None:
    now = datetime.now().astimezone()
    app.state.clock = lambda: now
    _, ada = await make_user(Role.customer)
    _, bob = await make_user(Role.customer)
    held = await hold(client, ada, table_id=1)
    assert held["table_numbers"] == [1]
    assert datetime.fromisoformat(held["expires_at"]) == now + timedelta(minutes=5)
    assert 1 not in free_numbers((await availability(client, DAY, 2, "19:00")).json())
    taken = await book(client, bob, DAY, "19:00", 2, table_id=1)
    assert taken.status_code == 409 and taken.json()["alternatives"], taken.text
    again = await client.post(
        "/bookings/holds", json=booking_body(DAY, "19:30", 2, table_id=1), headers=bob
    )
    assert again.status_code == 409, again.text
    # Not a booking yet: nobody's list shows it.
    assert (await client.get("/bookings", headers=ada)).json()["items"] == []
    assert (await client.get(f"/bookings/{held['id']}", headers=staff)).status_code == 404
    made = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 2, hold_id=held["id"]), headers=ada
    )
    assert made.status_code == 201, made.text
    assert made.json()["id"] == held["id"] and made.json()["table_number"] == 1
    assert [b["id"] for b in (await client.get("/bookings", headers=ada)).json()["items"]] == [
        held["id"]
    ]
    twice = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 2, hold_id=held["id"]), headers=ada
    )
    assert twice.status_code == 404, twice.text


async def test_an_expired_hold_frees_the_table_at_once(
    client: AsyncClient, app: FastAPI, make_user: UserFactory
) -> None:
    now = datetime.now().astimezone()
    app.state.clock = lambda: now
    _, ada = await make_user(Role.customer)
    _, bob = await make_user(Role.customer)
    held = await hold(client, ada, table_id=1)
    assert 1 not in free_numbers((await availability(client, DAY, 2, "19:00")).json())
    app.state.clock = lambda: now + timedelta(minutes=5)  # the instant it expires
    assert 1 in free_numbers((await availability(client, DAY, 2, "19:00")).json())
    taken = await book(client, bob, DAY, "19:00", 2, table_id=1)
    assert taken.status_code == 201, taken.text
    # Ada confirms too late: her table is gone, and she is booked at another if one is free.
    late = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 2, hold_id=held["id"]), headers=ada
    )
    assert late.status_code == 201, late.text
    assert late.json()["table_number"] != 1 and late.json()["id"] != held["id"]


async def test_a_hold_is_the_holders_and_matches_its_slot(
    client: AsyncClient, make_user: UserFactory
) -> None:
    _, ada = await make_user(Role.customer)
    _, bob = await make_user(Role.customer)
    held = await hold(client, ada)
    other = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 2, hold_id=held["id"]), headers=bob
    )
    assert other.status_code == 404, other.text
    wrong = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 3, hold_id=held["id"]), headers=ada
    )
    assert wrong.status_code == 422 and "19:00" in wrong.text, wrong.text
    assert (await client.delete(f"/bookings/holds/{held['id']}", headers=bob)).status_code == 404
    assert (await client.delete(f"/bookings/holds/{held['id']}", headers=ada)).status_code == 204
    assert (await client.delete(f"/bookings/holds/{held['id']}", headers=ada)).status_code == 404
    assert (
        await client.post("/bookings/holds", json=booking_body(DAY, "19:00", 2))
    ).status_code == 401
    bad = await client.post(
        "/bookings/holds",
        json={**booking_body(DAY, "19:00", 2), "table_id": 1, "combination_id": 1},
        headers=ada,
    )
    assert bad.status_code == 422, bad.text


async def test_a_guest_keeps_one_hold_at_a_time(
    client: AsyncClient, make_user: UserFactory
) -> None:
    _, ada = await make_user(Role.customer)
    first = await hold(client, ada, table_id=1)
    await hold(client, ada, table_id=2)
    assert 1 in free_numbers((await availability(client, DAY, 2, "19:00")).json())
    gone = await client.post(
        "/bookings", json=booking_body(DAY, "19:00", 2, hold_id=first["id"]), headers=ada
    )
    # The released hold books the slot the ordinary way (table 1 is free again).
    assert gone.status_code == 201 and gone.json()["id"] != first["id"], gone.text


async def test_racing_holds_and_bookings_for_one_table_one_wins(
    client: AsyncClient, make_user: UserFactory
) -> None:
    users = [(await make_user(Role.customer))[1] for _ in range(20)]
    body = booking_body(DAY, "19:00", 2, table_id=1)
    answers = await asyncio.gather(*(
        client.post("/bookings/holds" if i % 2 else "/bookings", json=body, headers=h)
        for i, h in enumerate(users)
    ))  # fmt: skip
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 1 and codes.count(409) == 19, codes
