"""The manage link (GET, PATCH, DELETE /bookings/manage/{token}): a guest's booking
without signing in, under a customer's rules; any token that does not name a live
booking of its guest is the same 404 as a missing booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from app.auth.models import Role
from app.bookings.models import Booking
from app.config import Settings
from app.guests.models import Guest
from app.links import Links
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
