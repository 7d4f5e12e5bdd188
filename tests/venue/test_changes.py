"""Settings changes that would strand bookings (app/venue/changes.py, app/bookings/
stranding.py): a closed date, a shorter or removed service, a new slot grid or time zone
under booked times is refused with 409 listing the bookings and changes nothing, unless
cancel_affected=true, which cancels them with one e-mail each saying why; a seated party
is never cancelled; a change that strands nothing is a plain 200. PATCH /restaurant
changes only the weekdays it names."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update

from app.auth.models import Role
from app.bookings.models import Booking
from app.notifications.models import MessageKind
from app.venue.models import RestaurantSettings
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    WEEKDAYS,
    Headers,
    availability,
    booked,
    next_weekday,
    seated_at_its_start,
)
from tests.notifications.helpers import outbox_rows

SEEDED = [{"opens": "12:00", "closes": "23:00"}]


def long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


async def state(client: AsyncClient, db: TestDatabase) -> tuple[Any, ...]:
    """Everything a refused change must leave as it was: the settings, every booking's
    table and status, and the outbox."""
    settings = (await client.get("/restaurant")).json()
    async with db.database.reader() as session:
        bookings = (
            await session.execute(
                select(Booking.id, Booking.table_id, Booking.status, Booking.cancelled_at)
            )
        ).all()
    outbox = [(r.kind, r.booking_id) for r in await outbox_rows(db)]
    return settings, sorted(bookings), outbox


async def cancellations(db: TestDatabase) -> dict[int, list[Any]]:
    """The cancellation notices queued, by booking."""
    out: dict[int, list[Any]] = {}
    for row in await outbox_rows(db):
        if row.kind == MessageKind.booking_cancelled and row.booking_id is not None:
            out.setdefault(row.booking_id, []).append(row)
    return out


async def change(
    client: AsyncClient, admin: Headers, method: str, body: dict[str, Any], *, cancel: bool
) -> Response:
    params = {"cancel_affected": "true"} if cancel else {}
    return await client.request(method, "/restaurant", json=body, params=params, headers=admin)


# (method, body for a Friday `day`, the booking's time and party, why it is stranded, a
# booking it leaves alone: days after `day` and time; the time zone moves every booking)
CHANGES = [
    pytest.param(
        "PUT", lambda day: {"closed_dates": [day.isoformat()]}, "19:00", 2,
        lambda day: f"The restaurant is closed on {long_day(day)}", (1, "19:00"), id="closed-date",
    ),
    pytest.param(
        "PATCH", lambda day: {"opening_hours": {"friday": [{"opens": "12:00", "closes": "20:00"}]}},
        "19:00", 2,
        lambda day: "The restaurant now closes at 20:00 on Fridays, before your booking "
        "would end (20:30)",
        (0, "12:30"), id="shorter-service",
    ),
    pytest.param(
        "PATCH", lambda day: {"opening_hours": {"friday": []}}, "19:00", 2,
        lambda day: "The restaurant is now closed on Fridays", (1, "19:00"), id="day-closed",
    ),
    pytest.param(
        "PUT", lambda day: {"opening_hours": {d: SEEDED for d in WEEKDAYS if d != "friday"}
                            | {"friday": [{"opens": "12:00", "closes": "15:00"}]}},
        "19:00", 2,
        lambda day: "The restaurant's hours on Fridays are now 12:00-15:00; 19:00 is "
        "outside them",
        (0, "12:30"), id="service-removed",
    ),
    pytest.param(
        "PUT", lambda day: {"slot_minutes": 30}, "19:15", 2,
        lambda day: "Bookings are now taken every 30 minutes from 12:00; 19:15 is no "
        "longer a booking time",
        (0, "19:30"), id="slot-grid",
    ),
    pytest.param(
        "PUT", lambda day: {"timezone": "Europe/Paris"}, "19:00", 2,
        lambda day: "The restaurant's time zone is now Europe/Paris, which would move "
        "your booking from 19:00 to 20:00",
        None, id="time-zone",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "body", "at", "party", "why", "unmoved"), CHANGES)
async def test_a_change_that_strands_a_booking_asks_first_then_cancels_it(
    client: AsyncClient,
    db: TestDatabase,
    admin: Headers,
    make_user: UserFactory,
    method: str,
    body: Any,
    at: str,
    party: int,
    why: Any,
    unmoved: tuple[int, str] | None,
) -> None:
    day = next_weekday(FRIDAY)
    guest, headers = await make_user(Role.customer)
    stranded = await booked(client, headers, day, at, party)
    _, other = await make_user(Role.customer)  # one guest's bookings may not overlap
    kept = None
    if unmoved is not None:  # a booking the change leaves where it is
        kept = await booked(client, other, day + timedelta(days=unmoved[0]), unmoved[1], 2)
    _, third = await make_user(Role.customer)
    gone = await booked(client, third, day, "20:00", 4)  # cancelled: not stranded
    assert (await client.delete(f"/bookings/{gone['id']}", headers=third)).status_code == 204
    reason = why(day)
    before = await state(client, db)

    refused = await change(client, admin, method, body(day), cancel=False)
    assert refused.status_code == 409, refused.text
    answer = refused.json()
    assert str(stranded["id"]) in answer["detail"] and "cancel_affected=true" in answer["detail"]
    assert answer["affected"] == [{
        "id": stranded["id"], "date": day.isoformat(), "time": at, "party_size": party,
        "status": "confirmed", "table_id": stranded["table_id"],
        "table_number": stranded["table_number"], "guest_name": guest.name, "reason": reason,
    }]  # fmt: skip
    assert answer["booking_ids"] == [stranded["id"]]
    assert await state(client, db) == before

    done = await change(client, admin, method, body(day), cancel=True)
    assert done.status_code == 200, done.text
    assert done.json()["moved"] == []
    assert done.json()["cancelled"] == answer["affected"]
    for key, value in body(day).items():
        if key != "opening_hours":
            assert done.json()[key] == value
    mine = (await client.get(f"/bookings/{stranded['id']}", headers=headers)).json()
    assert mine["status"] == "cancelled"
    notices = await cancellations(db)
    assert sorted(notices) == sorted([stranded["id"], gone["id"]])  # the guest cancelled one
    (notice,) = notices[stranded["id"]]
    assert notice.recipient == guest.email and notice.note == reason
    assert notice.body_text is not None
    assert reason in notice.body_text and "by the restaurant" in notice.body_text
    assert at in notice.body_text  # the time the guest booked, in the zone they booked in
    if kept is not None:
        still = (await client.get(f"/bookings/{kept['id']}", headers=other)).json()
        assert still["status"] == "confirmed"

    # Asked again, nothing is left to cancel: no second e-mail
    again = await change(client, admin, method, body(day), cancel=True)
    assert again.status_code == 200 and again.json()["cancelled"] == []
    assert len((await cancellations(db))[stranded["id"]]) == 1


async def test_a_seated_party_is_never_cancelled(
    client: AsyncClient, app: FastAPI, db: TestDatabase, admin: Headers, staff: Headers,
    make_user: UserFactory,
) -> None:  # fmt: skip
    booking, _ = await seated_at_its_start(client, app, staff, make_user, 4)
    day = date.fromisoformat(booking["date"])
    before = await state(client, db)
    for cancel in (False, True):
        refused = await change(
            client, admin, "PUT", {"closed_dates": [day.isoformat()]}, cancel=cancel
        )
        assert refused.status_code == 409, refused.text
        assert "seated" in refused.json()["detail"]
        assert [b["id"] for b in refused.json()["affected"]] == [booking["id"]]
        assert refused.json()["affected"][0]["status"] == "seated"
        assert await state(client, db) == before
    # The grid no longer matters to a party already at its table
    grid = await change(client, admin, "PUT", {"slot_minutes": 20}, cancel=False)
    assert grid.status_code == 200, grid.text


async def test_a_change_that_strands_nothing_is_200_and_sends_nothing(
    client: AsyncClient, db: TestDatabase, admin: Headers, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    await booked(client, guest, day, "19:00", 2)
    before = await outbox_rows(db)
    evening = [{"opens": "18:00", "closes": "23:00"}]
    body: dict[str, Any] = {
        "closed_dates": [(day + timedelta(days=1)).isoformat()],
        "opening_hours": {"friday": evening},
        "slot_minutes": 30,
        "name": "Chez Nous",
    }
    for cancel in (False, True):
        done = await change(client, admin, "PATCH", body, cancel=cancel)
        assert done.status_code == 200, done.text
        assert done.json()["moved"] == [] and done.json()["cancelled"] == []
        assert done.json()["opening_hours"]["friday"] == unpaced(evening)
    assert [r.id for r in await outbox_rows(db)] == [r.id for r in before]


def unpaced(services: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Services as the settings show them, without a pacing limit."""
    return [{**service, "pacing_covers": None} for service in services]


async def test_patch_changes_only_the_weekdays_it_names(
    client: AsyncClient, admin: Headers
) -> None:
    friday = [{"opens": "17:00", "closes": "24:00"}]
    done = await client.patch(
        "/restaurant", json={"opening_hours": {"friday": friday, "monday": []}}, headers=admin
    )
    assert done.status_code == 200, done.text
    hours = (await client.get("/restaurant")).json()["opening_hours"]
    assert hours == {**{d: unpaced(SEEDED) for d in WEEKDAYS}, "friday": unpaced(friday),
                     "monday": []}  # fmt: skip
    monday = next_weekday(0)
    closed = await availability(client, monday, 2)
    assert closed.status_code == 422 and "closed" in closed.json()["detail"]
    assert (await availability(client, next_weekday(FRIDAY), 2, "22:00")).status_code == 200
    # PATCH takes the other fields too, kept when left out
    named = await client.patch("/restaurant", json={"name": "Bistro"}, headers=admin)
    assert named.status_code == 200 and named.json()["opening_hours"] == hours
    # a weekday is still checked
    wrong = await client.patch("/restaurant", json={"opening_hours": {"funday": []}}, headers=admin)
    assert wrong.status_code == 422 and "funday" in wrong.json()["detail"]
    # PUT still states the whole week
    week = await client.put("/restaurant", json={"opening_hours": {"friday": friday}},
                            headers=admin)  # fmt: skip
    assert week.status_code == 200 and week.json()["opening_hours"] == {"friday": unpaced(friday)}


async def test_settings_changes_are_admin_only(
    client: AsyncClient, guest: Headers, staff: Headers
) -> None:
    for headers in ({}, guest, staff):
        refused = await client.patch("/restaurant", json={"name": "X"}, headers=headers)
        assert refused.status_code in {401, 403}
    assert (await client.get("/restaurant")).json()["name"] == "The Restaurant"


async def test_a_booking_out_of_place_before_the_change_is_not_its_doing(
    client: AsyncClient, db: TestDatabase, admin: Headers, guest: Headers
) -> None:
    """A booking left on a date closed before these checks existed does not block an
    unrelated change (the change answers for what it strands)."""
    day = next_weekday(FRIDAY)
    await booked(client, guest, day, "19:15", 2)
    async with db.database.writer() as session, session.begin():
        await session.execute(update(RestaurantSettings).values(closed_dates=[day.isoformat()]))
    done = await change(client, admin, "PUT", {"slot_minutes": 30}, cancel=False)
    assert done.status_code == 200, done.text
    assert done.json()["cancelled"] == []
