"""The manage link (GET, PATCH, DELETE /bookings/manage/{token}): a guest's booking
without signing in, under a customer's rules; any token that does not name a live
booking of its guest is the same 404 as a missing booking. And what the web app's
confirmation page offers: the link for the booking's account holder, and the booking as
a calendar file (by the link, or signed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from app.auth.models import Role
from app.bookings.models import Booking
from app.config import Settings
from app.guests.models import Guest
from app.links import Links
from app.notifications import invitation
from app.notifications.models import MessageKind, OutboxMessage
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, LONDON, Headers, Json, booked, configure, next_weekday

NOT_FOUND = {"detail": "Booking not found"}


MADE_FOR = -1  # the booking's own guest


def link(settings: Settings, booking: Json, guest_id: int | None = MADE_FOR) -> str:
    """The manage link of `booking`, made for its guest (or for `guest_id`)."""
    if guest_id == MADE_FOR:
        guest_id = (booking.get("guest") or {}).get("id")
    return f"/bookings/manage/{Links(settings).manage_token(booking['id'], guest_id)}"


def at_local(booking: Json, hour: int, minute: int = 0) -> datetime:
    day = datetime.fromisoformat(booking["starts_at"]).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


async def kinds(db: TestDatabase, booking_id: int) -> list[MessageKind]:
    async with db.database.reader() as session:
        found = await session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.booking_id == booking_id)
            .order_by(OutboxMessage.id)
        )
        return list(found)


async def answers_of(client: AsyncClient, url: str) -> list[tuple[int, Any]]:
    """What GET, PATCH and DELETE answer at `url`."""
    out = []
    for method, body in (("GET", None), ("PATCH", {"time": "20:00"}), ("DELETE", None)):
        response = await client.request(method, url, json=body)
        out.append((response.status_code, response.json()))
    return out


async def test_the_link_shows_changes_and_cancels_its_booking_without_signing_in(
    client: AsyncClient, guest: Headers, settings: Settings, db: TestDatabase
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    url = link(settings, made)
    shown = await client.get(url)
    assert shown.status_code == 200 and shown.json() == made, shown.text
    changed = await client.patch(url, json={"time": "20:00", "special_requests": "cake"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["id"], changed.json()["time"]) == (made["id"], "20:00")
    signed_in = await client.get(f"/bookings/{made['id']}", headers=guest)
    assert signed_in.json() == changed.json() == (await client.get(url)).json()
    assert (await client.patch(url, json={"time": "20:00"})).json() == changed.json()
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(f"/bookings/{made['id']}", headers=guest)).json()["status"] == (
        "cancelled"
    )
    assert await kinds(db, made["id"]) == [
        MessageKind.booking_confirmed, MessageKind.booking_changed, MessageKind.booking_cancelled
    ]  # fmt: skip


async def test_a_change_by_link_follows_a_customers_rules(
    client: AsyncClient,
    app: FastAPI,
    guest: Headers,
    admin: Headers,
    make_user: UserFactory,
    settings: Settings,
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    url = link(settings, made)
    closed = await client.patch(url, json={"time": "10:00"})
    assert closed.status_code == 422 and "opening hours" in closed.json()["detail"]
    _, other = await make_user(Role.customer)
    await booked(client, other, next_weekday(FRIDAY), "21:00", 2, table_id=7)
    taken = await client.patch(url, json={"time": "21:00", "table_id": 7})
    assert taken.status_code == 409 and taken.json()["alternatives"], taken.text
    app.state.clock = lambda: at_local(made, 18, 50)  # inside the 30-minute lead time
    soon = await client.patch(url, json={"time": "19:15"})
    assert soon.status_code == 422 and "30 minutes ahead" in soon.json()["detail"]
    await configure(client, admin, cancel_cutoff_minutes=120)
    app.state.clock = lambda: at_local(made, 18)
    late = await client.patch(url, json={"time": "21:00"})
    assert late.status_code == 409 and "120 minutes" in late.json()["detail"], late.text
    too_late = await client.delete(url)
    assert too_late.status_code == 409 and "120 minutes" in too_late.json()["detail"]
    assert (await client.get(url)).json() == made


async def test_a_wrong_token_is_a_404_like_a_missing_booking(
    client: AsyncClient, guest: Headers, settings: Settings
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    token = Links(settings).manage_token(made["id"], made["guest"]["id"])
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = Links(make_settings("sqlite://", secret_key="another-secret-" + "y" * 40))
    reset = Links(settings).reset_token(made["user_id"], "a-password-hash")
    wrong = [
        f"{head}.{body}.{flipped}",  # tampered
        forged.manage_token(made["id"], made["guest"]["id"]),  # signed with another key
        reset,  # a token for another purpose
        Links(settings).manage_token(made["id"] + 1000, made["guest"]["id"]),  # no booking
        "not-a-token",
        "x" * 3000,
    ]
    for token in wrong:
        assert await answers_of(client, f"/bookings/manage/{token}") == [(404, NOT_FOUND)] * 3
    assert (await client.get(f"/bookings/{made['id'] + 1000}", headers=guest)).json() == NOT_FOUND
    assert (await client.get(link(settings, made))).json() == made  # untouched


async def test_a_cancelled_booking_and_one_that_has_ended_are_gone_from_the_link(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers, settings: Settings
) -> None:
    cancelled = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    assert (await client.delete(f"/bookings/{cancelled['id']}", headers=guest)).status_code == 204
    assert await answers_of(client, link(settings, cancelled)) == [(404, NOT_FOUND)] * 3
    ended = await booked(client, guest, next_weekday(FRIDAY), "13:00", 2)
    url = link(settings, ended)
    app.state.clock = lambda: datetime.fromisoformat(ended["ends_at"]) - timedelta(minutes=1)
    assert (await client.get(url)).status_code == 200  # under way: still shown
    started = await client.delete(url)
    assert started.status_code == 409 and "already started" in started.json()["detail"]
    app.state.clock = lambda: datetime.fromisoformat(ended["ends_at"])
    assert await answers_of(client, url) == [(404, NOT_FOUND)] * 3
    # A party that did not come: its link is gone at once, not at the booking's end.
    missed = await booked(client, guest, next_weekday(FRIDAY), "16:00", 2)
    app.state.clock = lambda: datetime.fromisoformat(missed["starts_at"]) + timedelta(minutes=40)
    marked = await client.post(f"/bookings/{missed['id']}/no-show", headers=staff)
    assert marked.status_code == 200, marked.text
    assert await answers_of(client, link(settings, missed)) == [(404, NOT_FOUND)] * 3


async def test_the_link_names_the_guest_it_was_made_for(
    client: AsyncClient, guest: Headers, settings: Settings, db: TestDatabase
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    async with db.database.writer() as session, session.begin():
        ada, bea = Guest(name="Ada", email="ada@example.com"), Guest(name="Bea", phone="+441")
        session.add_all([ada, bea])
        await session.flush()
        await session.execute(update(Booking).where(Booking.id == made["id"]).values(
            guest_id=ada.id
        ))  # fmt: skip
    shown = (await client.get(link(settings, made, ada.id))).json()
    assert shown["id"] == made["id"] and shown["guest"]["name"] == "Ada"
    # made for no guest, for the guest before the booking changed hands, or for another
    for other in (None, made["guest"]["id"], bea.id):
        assert await answers_of(client, link(settings, made, other)) == [(404, NOT_FOUND)] * 3


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_booking": "3/minute"}])
async def test_the_link_routes_are_rate_limited_per_client_address(
    client: AsyncClient, settings: Settings
) -> None:
    url = link(settings, {"id": 1})
    assert [(await client.get(url)).status_code for _ in range(3)] == [404] * 3
    refused = await client.patch(url, json={})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert (await client.delete("/bookings/manage/anything")).status_code == 429


# -- The confirmation page: the manage link itself, and the booking as a calendar file --


async def test_the_manage_link_is_given_to_the_bookings_account_holder_and_staff(
    client: AsyncClient, guest: Headers, staff: Headers, make_user: UserFactory,
    settings: Settings,
) -> None:  # fmt: skip
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    token = Links(settings).manage_token(made["id"], made["guest"]["id"])
    expected = {"url": f"{settings.public_base_url}/manage/{token}", "token": token}
    url = f"/bookings/{made['id']}/manage-link"
    for who in (guest, staff):
        given = await client.get(url, headers=who)
        assert given.status_code == 200 and given.json() == expected, given.text
    assert (await client.get(f"/bookings/manage/{token}")).json() == made  # it works
    _, other = await make_user(Role.customer)
    assert (await client.get(url, headers=other)).json() == NOT_FOUND
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.get(url)).status_code == 401
    missing = await client.get(f"/bookings/{made['id'] + 1000}/manage-link", headers=staff)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "settings_overrides", [{"public_base_url": "https://book.my-restaurant.example/"}]
)
async def test_the_manage_link_points_at_the_public_address(
    client: AsyncClient, guest: Headers, settings: Settings
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    given = (await client.get(f"/bookings/{made['id']}/manage-link", headers=guest)).json()
    assert given["url"] == f"https://book.my-restaurant.example/manage/{given['token']}"


async def test_no_manage_link_or_calendar_file_for_a_booking_the_link_would_not_serve(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers, settings: Settings
) -> None:
    """409, saying why, where the link would be a 404: cancelled, no-show, ended."""
    day = next_weekday(FRIDAY)
    cancelled = await booked(client, guest, day, "13:00", 2)
    assert (await client.delete(f"/bookings/{cancelled['id']}", headers=guest)).status_code == 204
    missed = await booked(client, guest, day, "16:00", 2)
    seated = await booked(client, guest, day, "19:00", 2)
    app.state.clock = lambda: datetime.fromisoformat(missed["starts_at"]) + timedelta(minutes=40)
    assert (await client.post(f"/bookings/{missed['id']}/no-show", headers=staff)).is_success
    app.state.clock = lambda: datetime.fromisoformat(seated["starts_at"])
    assert (await client.post(f"/bookings/{seated['id']}/seat", headers=staff)).is_success
    refusals = {
        cancelled["id"]: f"Booking {cancelled['id']} is cancelled: only a confirmed or seated",
        missed["id"]: f"Booking {missed['id']} is no show: only a confirmed or seated",
    }
    for booking_id, why in refusals.items():
        for path, what in (("manage-link", "a manage link"), ("calendar.ics", "a calendar file")):
            refused = await client.get(f"/bookings/{booking_id}/{path}", headers=guest)
            assert refused.status_code == 409, refused.text
            assert refused.json()["detail"] == f"{why} booking has {what}"
    # Seated: the link still works, so both are given; once it has ended, neither.
    assert (await client.get(f"/bookings/{seated['id']}/manage-link", headers=guest)).is_success
    assert (await client.get(f"/bookings/{seated['id']}/calendar.ics", headers=staff)).is_success
    app.state.clock = lambda: datetime.fromisoformat(seated["ends_at"])
    ended = await client.get(f"/bookings/{seated['id']}/manage-link", headers=guest)
    assert ended.status_code == 409
    assert ended.json()["detail"] == (
        f"Booking {seated['id']} has ended: it no longer has a manage link"
    )
    assert (await client.get(link(settings, seated) + "/calendar.ics")).json() == NOT_FOUND


def events_of(text: str) -> tuple[icalendar.Calendar, icalendar.cal.Component]:
    """The calendar a file holds, and its one event."""
    calendar = icalendar.Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


async def test_the_calendar_file_is_the_booking_as_its_e_mails_event(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers,
    make_user: UserFactory, settings: Settings,
) -> None:  # fmt: skip
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    stamp = datetime.now(UTC).replace(microsecond=0)
    app.state.clock = lambda: stamp
    by_link = link(settings, made) + "/calendar.ics"
    signed_in = f"/bookings/{made['id']}/calendar.ics"
    file = await client.get(by_link)
    assert file.status_code == 200, file.text
    assert file.headers["content-type"] == "text/calendar; charset=utf-8"
    assert file.headers["content-disposition"] == (
        f'attachment; filename="booking-{made["id"]}.ics"'
    )
    assert file.headers["cache-control"] == "no-store"  # it holds the manage link
    for who in (guest, staff):  # the same file for the guest signed in, and for staff
        assert (await client.get(signed_in, headers=who)).text == file.text
    calendar, event = events_of(file.text)
    assert str(calendar["METHOD"]) == "PUBLISH"  # to add, not an invitation to answer
    assert str(event["UID"]) == invitation.booking_uid(made["id"], settings.mail_from)
    assert int(str(event["SEQUENCE"])) == 0
    assert event.decoded("DTSTART") == datetime.fromisoformat(made["starts_at"])
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTEND") == datetime.fromisoformat(made["ends_at"])
    assert event.decoded("DTSTAMP") == stamp
    assert "ATTENDEE" not in event and "ORGANIZER" in event
    assert str(event["STATUS"]) == "CONFIRMED"
    assert Links(settings).manage_url(made["id"], made["guest"]["id"]) in str(event["DESCRIPTION"])
    assert calendar.subcomponents[0].name == "VTIMEZONE"  # the zone before the event
    # A change: the file follows it, with the SEQUENCE the change notice's invitation has.
    changed = await client.patch(link(settings, made), json={"time": "20:00"})
    assert changed.status_code == 200, changed.text
    after = await client.get(signed_in, headers=guest)
    _, event = events_of(after.text)
    assert int(str(event["SEQUENCE"])) == 1
    assert event.decoded("DTSTART") == datetime.fromisoformat(changed.json()["starts_at"])
    assert (await client.get(by_link)).text == after.text
    # Nobody else's, and not without signing in (the link aside).
    _, other = await make_user(Role.customer)
    refused = await client.get(signed_in, headers=other)
    assert refused.status_code == 404 and refused.json() == NOT_FOUND
    assert (await client.get(signed_in)).status_code == 401
    forged = Links(settings).manage_token(made["id"] + 1000, made["guest"]["id"])
    assert (await client.get(f"/bookings/manage/{forged}/calendar.ics")).json() == NOT_FOUND
