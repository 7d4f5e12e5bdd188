"""Why a slot cannot be booked: a code and a sentence, for one slot and for each slot
of the day view, and the same code in the 422 and 409 bodies of the booking routes.

The clock is pinned to 10:00 London time today (as in test_availability.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import (
    ALL_DAY,
    LONDON,
    Headers,
    Params,
    availability,
    book,
    booked,
    configure,
)

STAFF_GUEST = {"name": "Grace Hopper", "email": "grace@example.com"}


@pytest.fixture
async def today(app: FastAPI, client: AsyncClient, admin: Headers) -> date:
    await configure(client, admin, timezone="Europe/London", opening_hours=ALL_DAY)
    day = datetime.now(LONDON).date()
    now = datetime.combine(day, time(10), tzinfo=LONDON).astimezone(UTC)
    app.state.clock = lambda: now
    return day


def slots(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return {s["time"]: s for s in response.json()["slots"]}


async def refused(client: AsyncClient, guest: Headers, day: date, at: str, party: int,
                  code: str) -> None:  # fmt: skip
    """The one-slot check and the booking both answer 422 with `code`."""
    checked = await availability(client, day, party, at)
    assert checked.status_code == 422, checked.text
    assert checked.json()["code"] == code and checked.json()["detail"]
    posted = await book(client, guest, day, at, party)
    assert posted.status_code == 422, posted.text
    assert posted.json()["code"] == code


async def test_closed(client: AsyncClient, admin: Headers, guest: Headers, today: date) -> None:
    closed_day = today + timedelta(days=3)
    await configure(client, admin, closed_dates=[closed_day.isoformat()])
    await refused(client, guest, closed_day, "19:00", 2, "closed")
    whole = await availability(client, closed_day, 2)
    assert whole.status_code == 422 and whole.json()["code"] == "closed"
    await configure(
        client, admin, opening_hours={"monday": [{"opens": "12:00", "closes": "23:00"}]}
    )
    monday = today + timedelta(days=7 - today.weekday())
    await refused(client, guest, monday, "09:00", 2, "closed")  # outside the hours
    await refused(client, guest, monday, "22:30", 2, "closed")  # past the last seating


async def test_past_and_lead_time(
    client: AsyncClient, admin: Headers, guest: Headers, staff: Headers, today: date
) -> None:
    await refused(client, guest, today, "09:00", 2, "past")
    await refused(client, guest, today - timedelta(days=1), "19:00", 2, "past")
    await refused(client, guest, today, "10:15", 2, "lead_time")
    day = slots(await availability(client, today, 2))
    assert day["09:45"]["bookable"] is False and day["09:45"]["reason"]["code"] == "past"
    assert day["10:15"]["bookable"] is False and day["10:15"]["reason"]["code"] == "lead_time"
    assert "30 minutes" in day["10:15"]["reason"]["message"]
    assert day["10:30"]["bookable"] is True and day["10:30"]["reason"] is None
    # Staff book without the lead time, and their view says so.
    params: Params = {"date": today.isoformat(), "party_size": 2}
    staff_day = slots(await client.get("/bookings/availability", params=params, headers=staff))
    assert staff_day["10:15"]["bookable"] is True
    assert staff_day["09:45"]["reason"]["code"] == "past"
    one = await client.get(
        "/bookings/availability", params={**params, "time": "10:15"}, headers=staff
    )
    assert one.status_code == 200 and one.json()["bookable"] is True, one.text
    await booked(client, staff, today, "10:15", 2, guest=STAFF_GUEST)


async def test_beyond_horizon_and_party_too_large(
    client: AsyncClient, guest: Headers, today: date
) -> None:
    far = today + timedelta(days=91)
    await refused(client, guest, far, "19:00", 2, "beyond_horizon")
    assert (await availability(client, far, 2)).json()["code"] == "beyond_horizon"
    await refused(client, guest, today + timedelta(days=2), "19:00", 13, "party_too_large")
    whole = await availability(client, today + timedelta(days=2), 13)
    assert whole.status_code == 422 and whole.json()["code"] == "party_too_large"


async def test_off_the_grid_is_not_a_slot(client: AsyncClient, guest: Headers, today: date) -> None:
    await refused(client, guest, today + timedelta(days=2), "19:10", 2, "not_a_slot")


@pytest.mark.parametrize("days", [0, 3])  # within 12 hours (no cache), and a day ahead
async def test_no_table(
    client: AsyncClient, staff: Headers, guest: Headers, today: date, days: int
) -> None:
    day = today + timedelta(days=days)
    await booked(client, staff, day, "19:00", 12, guest=STAFF_GUEST)  # table 20, the only one
    one = await availability(client, day, 12, "19:00")
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["bookable"] is False and body["available_tables"] == []
    assert body["reason"] == {"code": "no_table", "message": "No table for 12 is free at 19:00"}
    assert body["alternatives"]
    day_view = slots(await availability(client, day, 12))
    assert day_view["19:00"]["reason"]["code"] == "no_table"
    assert day_view["19:00"]["available_tables"] == 0
    assert day_view["21:30"]["bookable"] is True and day_view["21:30"]["available_tables"] == 1
    posted = await book(client, guest, day, "19:00", 12)
    assert posted.status_code == 409 and posted.json()["code"] == "no_table", posted.text


async def test_paced_out(client: AsyncClient, admin: Headers, staff: Headers, today: date) -> None:
    day = today + timedelta(days=3)
    hours = {"opens": "00:00", "closes": "24:00", "pacing_covers": 4}
    await configure(client, admin, opening_hours={d: [hours] for d in ALL_DAY})
    await booked(client, staff, day, "19:00", 4, guest=STAFF_GUEST)
    one = (await availability(client, day, 2, "19:00")).json()
    assert one["bookable"] is False and one["reason"]["code"] == "paced_out"
    assert slots(await availability(client, day, 2))["19:00"]["reason"]["code"] == "paced_out"
