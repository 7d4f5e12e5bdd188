"""Issue 21's day, tried as a new user would, through a real SMTP server: staff take a
phone booking for Ada; her confirmation (with its calendar invitation) reaches her
address; she follows the manage link and moves the booking to 20:00 and gets one
"changed" e-mail; the host's list of the evening shows her name and phone; an admin
closes the day, is told which bookings that strands, confirms, and each of those guests
gets one e-mail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.auth.models import Role
from app.config import Settings
from tests.conftest import TestDatabase, UserFactory
from tests.factories import LONDON, Headers, booking_body
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, plain_text
from tests.notifications.test_guest_emails import event_of

ADA = {"name": "Ada Lovelace", "phone": "+44 20 7946 0000", "email": "ada@example.com"}
MANAGE = re.compile(r"http://127\.0\.0\.1:8000/manage/(\S+)")


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "reminder_hours": 0, "public_base_url": "http://127.0.0.1:8000",
            "restaurant_phone": "+44 20 7946 0999"}  # fmt: skip


async def test_a_phone_booking_changed_by_its_guest_and_a_closed_day(
    client: httpx.AsyncClient, db: TestDatabase, settings: Settings, smtp: SmtpServer,
    clock: Clock, make_user: UserFactory, admin: Headers,
) -> None:  # fmt: skip
    staff_user, staff = await make_user(Role.staff, email="staff@example.com")
    day = datetime.now(LONDON).date() + timedelta(days=2)
    sender = dispatcher(db, settings, clock)

    # Staff take the call.
    phone_booking = booking_body(day, "19:00", 2, guest=ADA, source="phone")
    made = await client.post("/bookings", json=phone_booking, headers=staff)
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["guest"]["phone"] == "+442079460000" and booking["source"] == "phone"
    assert await sender.run_once() == 1
    [confirmation] = smtp.inbox.messages
    assert str(confirmation["To"]) == "ada@example.com"  # not staff@example.com
    method, _, event = event_of(confirmation)
    assert method == "REQUEST"
    assert event.decoded("dtstart").astimezone(LONDON).strftime("%H:%M") == "19:00"
    text = plain_text(confirmation)
    assert "+44 20 7946 0999" in text and "DELETE" not in text
    link = MANAGE.search(text)
    assert link is not None, text

    # Ada follows the link and moves the booking to 20:00.
    token = link.group(1)
    seen = await client.get(f"/bookings/manage/{token}")
    assert seen.status_code == 200 and seen.json()["id"] == booking["id"]
    moved = await client.patch(f"/bookings/manage/{token}", json={"time": "20:00"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["time"] == "20:00" and moved.json()["id"] == booking["id"]
    smtp.inbox.messages.clear()
    assert await sender.run_once() == 1
    [changed] = smtp.inbox.messages
    assert str(changed["To"]) == "ada@example.com"
    assert "changed" in str(changed["Subject"]).lower()
    method, _, event = event_of(changed)
    assert method == "REQUEST" and event.decoded("sequence") == 1
    assert event.decoded("dtstart").astimezone(LONDON).strftime("%H:%M") == "20:00"

    # The host lists the evening and sees who is coming.
    _, other_guest = await make_user(Role.customer, email="bob@example.com")
    bob = await client.post("/bookings", json=booking_body(day, "12:00", 4), headers=other_guest)
    assert bob.status_code == 201
    evening = await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)
    rows = [(b["time"], b["guest"]["name"], b["guest"]["phone"]) for b in evening.json()["items"]]
    assert rows == [("12:00", "Test customer", None), ("20:00", "Ada Lovelace", "+442079460000")]

    # An admin closes that day: told first, then confirms; each guest gets one e-mail.
    smtp.inbox.messages.clear()
    await sender.run_once()  # Bob's confirmation
    smtp.inbox.messages.clear()
    close = {"closed_dates": [day.isoformat()]}
    told = await client.patch("/restaurant", json=close, headers=admin)
    assert told.status_code == 409
    assert {b["id"] for b in told.json()["affected"]} == {booking["id"], bob.json()["id"]}
    done = await client.patch("/restaurant", json=close, params={"cancel_affected": "true"},
                              headers=admin)  # fmt: skip
    assert done.status_code == 200, done.text
    assert await sender.run_once() == 2
    assert await sender.run_once() == 0
    received = sorted(str(m["To"]) for m in smtp.inbox.messages)
    assert received == ["ada@example.com", "bob@example.com"]
    for message in smtp.inbox.messages:
        method, _, event = event_of(message)
        assert method == "CANCEL"
        assert "closed" in plain_text(message)
    assert staff_user.email not in received
