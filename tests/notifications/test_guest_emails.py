"""E-mails people can use (app/notifications/content.py, invitation.py and the templates),
read as a real SMTP server (aiosmtpd) received them: a booking's calendar invitation
from confirmation through change to cancellation, the restaurant's contact details in
every e-mail (an admin's over the environment's), and words for people instead of API paths."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.bookings.models import Booking, BookingStatus
from app.config import Settings
from app.db.statements import session_conn
from app.floor.models import RestaurantTable
from app.guests.models import Guest
from app.links import Links, ManageClaims
from app.notifications import outbox
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, booked, configure, next_weekday
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, outbox_rows, plain_text

CONTACT = {
    "restaurant_phone": "+44 117 496 0123",
    "restaurant_email": "hello@quay.example",
    "restaurant_address": "1 Quay Street, Bristol BS1 4DJ",
    "restaurant_website": "https://quay.example",
}
BARE = {"restaurant_phone": "", "restaurant_email": "", "restaurant_address": "",
        "restaurant_website": ""}  # fmt: skip
ZONE = "America/New_York"  # 19:00 there is never 19:00 UTC: a time in the wrong zone shows
NAME = "Quay Bistro"


@pytest.fixture
def settings_overrides(
    settings_overrides: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The notification tests' settings with the restaurant's contact details (CONTACT, or
    what the test's indirect parameter gives)."""
    return {**settings_overrides, **getattr(request, "param", CONTACT)}


# -- reading what arrived -------------------------------------------------------------


def calendar_part(message: EmailMessage) -> tuple[str, icalendar.Calendar] | None:
    """The message's text/calendar part: its method parameter and the parsed calendar."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    assert part.get_filename() == "booking.ics"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    return str(part.get_param("method")), calendar


def event_of(message: EmailMessage) -> tuple[str, icalendar.Calendar, icalendar.Component]:
    found = calendar_part(message)
    assert found is not None, "no calendar invitation"
    method, calendar = found
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return method, calendar, events[0]


async def kinds(db: TestDatabase, messages: list[EmailMessage]) -> list[str]:
    """Each received message's outbox kind (by its X-Outbox-ID)."""
    by_id = {r.id: r.kind.value for r in await outbox_rows(db)}
    return [by_id[int(str(m["X-Outbox-ID"]))] for m in messages]


def manage_claims(settings: Settings, text: str) -> list[ManageClaims | None]:
    """What Links makes of every manage link in `text`."""
    base = re.escape(settings.public_base_url.rstrip("/"))
    tokens = re.findall(base + r"/manage/([A-Za-z0-9_.-]+)", text)
    return [Links(settings).read_manage_token(token) for token in tokens]


# -- making the e-mails ---------------------------------------------------------------


async def change_booking(
    db: TestDatabase, booking_id: int, *, later: timedelta, recipient: str, now: datetime
) -> None:
    """Move a booking and queue its change notice, as the change route will."""
    async with db.database.writer() as session, session.begin():
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        booking.starts_at += later
        booking.ends_at += later
        await session.flush()
        await outbox.booking_changed(
            await session_conn(session), booking, recipient=recipient, now=now
        )


async def cancel_with_note(
    db: TestDatabase, settings: Settings, booking_id: int, note: str, now: datetime
) -> None:
    """The restaurant cancels a booking and says why (as the stranding work will)."""
    async with db.database.writer() as session, session.begin():
        booking, number, guest = (
            await session.execute(
                select(Booking, RestaurantTable.table_number, Guest)
                .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
                .join(Guest, Guest.id == Booking.guest_id)
                .where(Booking.id == booking_id)
            )
        ).one()
        booking.status, booking.cancelled_at = BookingStatus.cancelled, now
        await session.flush()
        await outbox.booking_cancelled(
            session, booking, settings=settings, recipient=str(guest.email), name=guest.name,
            table_number=number, now=now, by_restaurant=True, note=note,
        )  # fmt: skip


async def every_kind_of_email(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    staff: Headers,
) -> dict[str, list[EmailMessage]]:
    """A welcome, an "account exists", and a guest's confirmations, change, reminder,
    own cancellation and the restaurant's cancellations (with and without a reason), as
    received; by kind."""
    body = {"email": "zoe@example.com", "password": "correct horse 9", "name": "Zoë"}
    for _ in range(2):
        assert (await client.post("/auth/register", json=body)).status_code == 202
    user, guest = await make_user(Role.customer, email="ada@example.com")
    day = next_weekday(FRIDAY, at_least_days=3)
    first = await booked(client, guest, day, "19:00", 2, special_requests="Window seat")
    await change_booking(db, first["id"], later=timedelta(hours=1), recipient=user.email,
                         now=clock.now)  # fmt: skip
    second = await booked(client, guest, day + timedelta(days=7), "19:00", 2)
    assert (await client.delete(f"/bookings/{second['id']}", headers=guest)).status_code == 204
    third = await booked(client, guest, day + timedelta(days=14), "19:00", 4)
    await cancel_with_note(db, settings, third["id"], "The kitchen is flooded", clock.now)
    sender = dispatcher(db, settings, clock)
    while await sender.run_once():
        pass
    clock.now = datetime.fromisoformat(first["starts_at"]) + timedelta(hours=1, minutes=-30)
    assert await sender.run_once() == 1  # the reminder
    assert (await client.delete(f"/bookings/{first['id']}", headers=staff)).status_code == 204
    assert await sender.run_once() == 1
    received: dict[str, list[EmailMessage]] = {}
    for kind, message in zip(await kinds(db, smtp.inbox.messages), smtp.inbox.messages,
                             strict=True):  # fmt: skip
        received.setdefault(kind, []).append(message)
    return received


# -- the calendar invitation ----------------------------------------------------------


async def test_a_booking_is_one_calendar_event_from_confirmation_to_cancellation(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    admin: Headers,
    make_user: UserFactory,
) -> None:
    await configure(client, admin, name=NAME, timezone=ZONE)
    user, guest = await make_user(Role.customer, email="ada@example.com")
    day = next_weekday(FRIDAY, ZONE, at_least_days=3)
    booking = await booked(client, guest, day, "19:00", 2)
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1
    smtp.stop()  # the change notice fails once: its retry says the same
    await change_booking(db, booking["id"], later=timedelta(hours=1), recipient=user.email,
                         now=clock.now)  # fmt: skip
    assert await sender.run_once() == 1
    smtp.start()
    clock.now += timedelta(seconds=61)
    assert await sender.run_once() == 1
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    assert await sender.run_once() == 1

    messages = smtp.inbox.messages
    assert await kinds(db, messages) == ["booking_confirmed", "booking_changed",
                                         "booking_cancelled"]  # fmt: skip
    found = [event_of(m) for m in messages]
    assert [method for method, _, _ in found] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [str(c["METHOD"]) for _, c, _ in found] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [e for _, _, e in found]
    assert {str(e["UID"]) for e in events} == {f"booking-{booking['id']}@test.example"}
    assert [int(str(e["SEQUENCE"])) for e in events] == [0, 1, 2]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]

    zone = ZoneInfo(ZONE)
    booked_at = datetime.combine(day, time(19), zone)
    starts = [e.decoded("DTSTART") for e in events]
    assert starts == [booked_at, booked_at + timedelta(hours=1), booked_at + timedelta(hours=1)]
    assert starts[0] == datetime.fromisoformat(booking["starts_at"])
    for event, start in zip(events, starts, strict=True):
        assert event["DTSTART"].params["TZID"] == ZONE
        assert event["DTEND"].params["TZID"] == ZONE
        assert start.astimezone(zone).time() in (time(19), time(20))
        length = datetime.fromisoformat(booking["ends_at"]) - booked_at
        assert event.decoded("DTEND") - start == length
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert NAME in str(event["SUMMARY"]) and "2 guests" in str(event["SUMMARY"])
        assert str(event["LOCATION"]) == CONTACT["restaurant_address"]
        assert str(event["ORGANIZER"]) == f"mailto:{CONTACT['restaurant_email']}"
        assert event["ORGANIZER"].params["CN"] == NAME
    for _, calendar, _ in found:  # the zone is defined in the calendar itself
        assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == [ZONE]

    changed = plain_text(messages[1])
    assert "has changed" in changed and "20:00" in changed and "19:00" not in changed


async def test_a_cancellation_outranks_every_change_before_it(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    staff: Headers,
) -> None:
    """Two changes, sent in one round with the confirmation, then the restaurant
    cancels: each notice of the booking outranks the one before, whatever was sent
    together; another booking's notices count on their own."""
    user, guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, guest, day, "12:00", 2)
    other = await booked(client, guest, day, "19:00", 2)
    for _ in range(2):
        await change_booking(db, booking["id"], later=timedelta(minutes=30),
                             recipient=user.email, now=clock.now)  # fmt: skip
    assert (await client.delete(f"/bookings/{booking['id']}", headers=staff)).status_code == 204
    await dispatcher(db, settings, clock).run_once()
    sequences: dict[str, list[tuple[str, int]]] = {}
    for kind, message in zip(await kinds(db, smtp.inbox.messages), smtp.inbox.messages,
                             strict=True):  # fmt: skip
        _, _, event = event_of(message)
        uid = str(event["UID"])
        sequences.setdefault(uid, []).append((kind, int(str(event["SEQUENCE"]))))
    assert sequences == {
        f"booking-{booking['id']}@test.example": [
            ("booking_confirmed", 0), ("booking_changed", 1), ("booking_changed", 2),
            ("booking_cancelled", 3)],
        f"booking-{other['id']}@test.example": [("booking_confirmed", 0)],
    }  # fmt: skip


# -- words for people ------------------------------------------------------------------

BOOKING_NOTICES = ("booking_confirmed", "booking_changed", "booking_reminder")


async def test_every_email_speaks_to_people_and_says_how_to_reach_the_restaurant(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    staff: Headers,
) -> None:
    received = await every_kind_of_email(client, db, settings, smtp, clock, make_user, staff)
    assert {kind: len(messages) for kind, messages in received.items()} == {
        "account_welcome": 1, "account_exists": 1, "booking_confirmed": 3,
        "booking_changed": 1, "booking_cancelled": 3, "booking_reminder": 1,
    }  # fmt: skip
    bookings = {b.id: b for b in await all_bookings(db)}
    for kind, messages in received.items():
        for message in messages:
            text, html = plain_text(message), plain_text(message, "html")
            for body in (text, html):
                for word in ("DELETE", "PATCH", "/bookings", "/api", "booking_id", "guest_id"):
                    assert word not in body, (kind, word)
                for value in CONTACT.values():
                    assert value in body, (kind, value)
            assert f'<a href="tel:+441174960123">{CONTACT["restaurant_phone"]}</a>' in html
            assert f'<a href="mailto:{CONTACT["restaurant_email"]}">' in html
            if kind in BOOKING_NOTICES:  # change or cancel online, or call
                claims = manage_claims(settings, text)
                assert len(claims) == 1 and claims[0] is not None, kind
                booking = bookings[claims[0].booking_id]
                assert claims[0] == ManageClaims(booking.id, booking.guest_id)
                assert f"#{booking.id}" in text  # the booking's reference
                assert manage_claims(settings, html) == claims
                assert "change or cancel your booking" in text.lower()
                assert f"call us on {CONTACT['restaurant_phone']}" in text.lower()
            else:
                assert manage_claims(settings, text) == [], kind
    cancelled = {plain_text(m) for m in received["booking_cancelled"]}
    reasons = [t for t in cancelled if "The restaurant's reason: The kitchen is flooded" in t]
    assert len(reasons) == 1 and "cancelled by the restaurant" in reasons[0]
    assert sum("cancelled by the restaurant" in t for t in cancelled) == 2
    assert sum("as you asked" in t for t in cancelled) == 1
    changed = plain_text(received["booking_changed"][0])
    assert "Your booking at" in changed and "has changed" in changed and "20:00" in changed
    assert "Window seat" in changed


async def test_contact_details_an_admin_sets_are_in_the_emails_sent_after(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    admin: Headers,
    make_user: UserFactory,
) -> None:
    """PATCH /restaurant's contact details replace the RESTAURANT_* ones in what is sent
    from then on (the footer, the "call us" line, the invitation's place and organizer)
    and in GET /restaurant; an empty one goes back to the environment's."""
    change = {"phone": "0117 496 0999", "email": "tables@quay.example",
              "address": "9 Harbour Walk, Bristol BS1 5LL"}  # fmt: skip
    changed = await client.patch("/restaurant", json=change, headers=admin)
    assert changed.status_code == 200, changed.text
    shown = (await client.get("/restaurant")).json()
    assert (shown["phone"], shown["email"], shown["address"], shown["website"]) == (
        "+441174960999", "tables@quay.example", "9 Harbour Walk, Bristol BS1 5LL",
        CONTACT["restaurant_website"],
    )  # fmt: skip
    _user, guest = await make_user(Role.customer, email="ada@example.com")
    day = next_weekday(FRIDAY, at_least_days=3)
    await booked(client, guest, day, "19:00", 2)
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1
    message = smtp.inbox.messages[-1]
    text, html = plain_text(message), plain_text(message, "html")
    for body in (text, html):
        assert "+441174960999" in body and "tables@quay.example" in body
        assert "9 Harbour Walk" in body and CONTACT["restaurant_website"] in body
        for old in ("restaurant_phone", "restaurant_email", "restaurant_address"):
            assert CONTACT[old] not in body, old
    assert "call us on +441174960999" in text.lower()
    assert '<a href="tel:+441174960999">+441174960999</a>' in html
    _, _, event = event_of(message)
    assert str(event["LOCATION"]) == "9 Harbour Walk, Bristol BS1 5LL"
    assert str(event["ORGANIZER"]) == "mailto:tables@quay.example"

    cleared = await client.patch("/restaurant", json={"phone": ""}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["phone"] == CONTACT["restaurant_phone"]
    await booked(client, guest, day + timedelta(days=7), "19:00", 2)
    assert await sender.run_once() == 1
    text = plain_text(smtp.inbox.messages[-1])
    assert CONTACT["restaurant_phone"] in text and "+441174960999" not in text
    assert "tables@quay.example" in text  # the others stay as the admin set them


@pytest.mark.parametrize("settings_overrides", [BARE], indirect=True)
async def test_contact_details_left_out_when_unset(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    staff: Headers,
) -> None:
    received = await every_kind_of_email(client, db, settings, smtp, clock, make_user, staff)
    for kind, messages in received.items():
        for message in messages:
            for body in (plain_text(message), plain_text(message, "html")):
                for label in ("Phone:", "E-mail:", "Address:", "Website:", "call us", "tel:"):
                    assert label.lower() not in body.lower(), (kind, label)
            if kind in BOOKING_NOTICES:
                assert len(manage_claims(settings, plain_text(message))) == 1
            if calendar_part(message) is not None:
                _, _, event = event_of(message)
                assert "LOCATION" not in event
                assert str(event["ORGANIZER"]) == "mailto:book@test.example"  # MAIL_FROM's
    assert sorted(received) == [
        "account_exists",
        "account_welcome",
        "booking_cancelled",
        "booking_changed",
        "booking_confirmed",
        "booking_reminder",
    ]
    with_calendar = {k for k, ms in received.items() if all(calendar_part(m) for m in ms)}
    assert with_calendar == {"booking_cancelled", "booking_changed", "booking_confirmed"}
    assert not any(calendar_part(m) for m in received["booking_reminder"])


async def all_bookings(db: TestDatabase) -> list[Booking]:
    async with db.database.reader() as session:
        return list(await session.scalars(select(Booking)))
