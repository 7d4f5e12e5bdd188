"""Staff change who a booking is for (PATCH /bookings/{id} with `guest`); a guest's own
bookings keep fair use when changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.conftest import TestDatabase
from tests.factories import FRIDAY, Headers, book, booking_body, configure, next_weekday
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, outbox_rows

ANN = {"name": "Ann", "email": "ann@example.com"}
BEA = {"name": "Bea", "email": "bea@example.com", "phone": "020 7946 0555"}


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "reminder_hours": 0}


async def test_a_booking_given_to_another_guest_tells_only_the_new_one(
    client: httpx.AsyncClient, db: TestDatabase, settings: Settings, smtp: SmtpServer,
    clock: Clock, staff: Headers, guest: Headers,
) -> None:  # fmt: skip
    body = booking_body(next_weekday(FRIDAY), "19:00", 2, guest=ANN, source="phone")
    made = (await client.post("/bookings", json=body, headers=staff)).json()
    # Not sent yet (the SMTP server was busy, say) when staff correct who it is for.
    changed = await client.patch(f"/bookings/{made['id']}", json={"guest": BEA}, headers=staff)
    assert changed.status_code == 200, changed.text
    assert changed.json()["guest"]["name"] == "Bea"
    assert changed.json()["guest"]["phone"] == "+442079460555"
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1
    assert [str(m["To"]) for m in smtp.inbox.messages] == ["bea@example.com"]
    rows = {r.recipient: r for r in await outbox_rows(db)}
    assert rows["ann@example.com"].status.value == "cancelled"
    assert rows["ann@example.com"].last_error == "the booking's guest has changed"
    same = await client.patch(f"/bookings/{made['id']}", json={"guest": BEA}, headers=staff)
    assert same.status_code == 200
    assert len(await outbox_rows(db)) == 2  # nothing changed: no new notice
    refused = await client.patch(f"/bookings/{made['id']}", json={"guest": ANN}, headers=guest)
    assert refused.status_code == 404  # not theirs


async def test_a_guests_own_booking_stays_theirs(
    client: httpx.AsyncClient, staff: Headers, guest: Headers
) -> None:
    own = (await book(client, guest, next_weekday(FRIDAY), "19:00", 2)).json()
    given = await client.patch(f"/bookings/{own['id']}", json={"guest": BEA}, headers=staff)
    assert given.status_code == 409 and "own" in given.json()["detail"]
    by_guest = await client.patch(f"/bookings/{own['id']}", json={"guest": BEA}, headers=guest)
    assert by_guest.status_code == 403
    shown = (await client.get(f"/bookings/{own['id']}", headers=guest)).json()
    assert shown["guest"] == own["guest"]


async def test_a_change_keeps_a_guests_bookings_apart_but_not_their_number(
    client: httpx.AsyncClient, guest: Headers, admin: Headers
) -> None:
    day = next_weekday(FRIDAY)
    lunch = (await book(client, guest, day, "12:00", 2)).json()
    dinner = (await book(client, guest, day, "19:00", 2)).json()
    onto_dinner = await client.patch(f"/bookings/{lunch['id']}", json={"time": "18:30"},
                                     headers=guest)  # fmt: skip
    assert onto_dinner.status_code == 409
    assert f"booking {dinner['id']}" in onto_dinner.json()["detail"]
    await configure(client, admin, max_active_bookings_per_guest=1)  # lowered since
    moved = await client.patch(f"/bookings/{lunch['id']}", json={"time": "13:00"}, headers=guest)
    assert moved.status_code == 200, moved.text  # a change adds no booking
