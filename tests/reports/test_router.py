"""The manager's day figures (GET /api/reports/day, app/reports/service.py), from real rows
on both databases: bookings in every state, booked and walk-in parties seated, a
cancelled order, bills closed either side of midnight; admin only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import (
    FRIDAY,
    LONDON,
    Headers,
    Json,
    add_item,
    booked,
    configure,
    line,
    new_order,
    next_weekday,
    serve_all,
    table_id,
)

EMPTY = {
    "covers_booked": 0, "bookings": 0, "seated_covers": 0, "walk_in_covers": 0,
    "no_shows": 0, "no_show_covers": 0, "cancellations": 0, "orders_closed": 0,
    "revenue": "0.00",
}  # fmt: skip


def at(day: date, hhmm: str) -> datetime:
    """An instant at the restaurant's local time (Europe/London by default)."""
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


async def report(client: AsyncClient, admin: Headers, day: date | None = None) -> Json:
    params = {"date": day.isoformat()} if day else None
    response = await client.get("/api/reports/day", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_days_figures_come_from_its_rows(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    await configure(client, admin, service_charge_percent="10", tax_percent="20")
    steak = await add_item(client, admin, "12.25", name="Steak")
    pasta = await add_item(client, admin, "10.00", name="Pasta")
    soup = await add_item(client, admin, "6.50", name="Soup")
    guests = [(await make_user(Role.customer))[1] for _ in range(4)]
    tables = {n: await table_id(client, staff, n) for n in (3, 4, 5, 7, 9)}
    day = next_weekday(FRIDAY, at_least_days=2)
    following = day + timedelta(days=1)

    seated = await booked(client, guests[0], day, "19:00", 2, table_id=tables[3])
    missed = await booked(client, guests[1], day, "19:00", 4, table_id=tables[4])
    dropped = await booked(client, guests[2], day, "20:00", 3, table_id=tables[5])
    await booked(
        client,
        staff,
        day,
        "18:00",
        5,
        guest={"name": "Pat Phone", "phone": "+44 20 7946 0000"},
        source="phone",
    )
    walk_in = await booked(client, staff, day, "19:30", 2, table_id=tables[9], source="walk_in",
                           guest={"name": "Wes Walk", "phone": "+44 20 7946 0001"})  # fmt: skip
    await booked(client, guests[3], following, "19:00", 6)
    cancelled = await client.delete(f"/bookings/{dropped['id']}", headers=guests[2])
    assert cancelled.status_code == 204, cancelled.text

    # The evening: the booked party arrives and eats, another never comes.
    app.state.clock = lambda: at(day, "19:00")
    sat = await client.post(f"/bookings/{seated['id']}/seat", headers=staff)
    assert sat.status_code == 200, sat.text
    booked_order = sat.json()["order"]["id"]
    changed = await client.put(f"/api/orders/{booked_order}", json={"items": [line(steak)]},
                               headers=staff)  # fmt: skip
    assert changed.status_code == 200, changed.text
    no_show = await client.post(f"/bookings/{missed['id']}/no-show", headers=staff)
    assert no_show.status_code == 200, no_show.text
    # A walk-in booked at the door, one seated straight at a table, an order given up.
    app.state.clock = lambda: at(day, "19:30")
    sat = await client.post(f"/bookings/{walk_in['id']}/seat", headers=staff)
    assert sat.status_code == 200, sat.text
    straight = await new_order(client, staff, [line(pasta, 2), line(soup)], guests=3,
                               table_id=tables[7])  # fmt: skip
    given_up = await new_order(client, staff, guests=6)
    assert (await client.delete(f"/api/orders/{given_up['id']}", headers=staff)).status_code == 200
    # The booked party pays before midnight, the walk-in after it.
    app.state.clock = lambda: at(day, "21:00")
    await serve_all(client, staff, booked_order)
    closed = await client.post(f"/api/orders/{booked_order}/close", headers=staff)
    assert closed.status_code == 200, closed.text
    app.state.clock = lambda: at(following, "00:30")
    await serve_all(client, staff, straight["id"])
    closed = await client.post(f"/api/orders/{straight['id']}/close", headers=staff)
    assert closed.status_code == 200, closed.text

    bills = {}
    for order_id in (booked_order, straight["id"]):
        bill = await client.get(f"/api/orders/{order_id}/bill", headers=staff)
        bills[order_id] = Decimal(bill.json()["total"])
    # 12.25 + 10% service (1.23) + 20% tax on 13.48 (2.70); 26.50 + 2.65 + 5.83.
    assert bills == {booked_order: Decimal("16.18"), straight["id"]: Decimal("34.98")}

    assert await report(client, admin, day) == {
        "date": day.isoformat(), "timezone": "Europe/London",
        "covers_booked": 2 + 4 + 5 + 2, "bookings": 4,  # the cancelled one left out
        "seated_covers": 2 + 2 + 3, "walk_in_covers": 2 + 3,
        "no_shows": 1, "no_show_covers": 4, "cancellations": 1,
        "orders_closed": 1, "revenue": "16.18",
    }  # fmt: skip
    assert await report(client, admin, following) == {
        **EMPTY, "date": following.isoformat(), "timezone": "Europe/London",
        "covers_booked": 6, "bookings": 1, "orders_closed": 1, "revenue": "34.98",
    }  # fmt: skip
    # Without a date: today at the restaurant (the clock says just after midnight).
    assert (await report(client, admin))["date"] == following.isoformat()
    app.state.clock = lambda: at(day, "23:59")
    assert await report(client, admin) == await report(client, admin, day)
    before = day - timedelta(days=1)
    assert await report(client, admin, before) == {
        **EMPTY,
        "date": before.isoformat(),
        "timezone": "Europe/London",
    }


async def test_a_day_is_the_restaurants_local_day(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    """In another time zone the bounds move with it: a booking at 19:00 in New York is
    the next day in UTC, and counts on its local day."""
    await configure(client, admin, timezone="America/New_York")
    _, guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY, "America/New_York", at_least_days=2)
    await booked(client, guest, day, "19:00", 3)
    figures = await report(client, admin, day)
    assert (figures["timezone"], figures["covers_booked"], figures["bookings"]) == (
        "America/New_York",
        3,
        1,
    )
    assert (await report(client, admin, day + timedelta(days=1)))["covers_booked"] == 0


async def test_only_admins_read_the_figures(client: AsyncClient, make_user: UserFactory) -> None:
    assert (await client.get("/api/reports/day")).status_code == 401
    for role in (Role.customer, Role.staff):
        _, headers = await make_user(role)
        refused = await client.get("/api/reports/day", headers=headers)
        assert refused.status_code == 403, (role, refused.text)
        assert "Admin" in refused.json()["detail"]


@pytest.mark.parametrize(
    "value", ["2026-02-30", "20260101", "tomorrow", "0001-01-01", "9999-12-31", "1899-12-31"]
)
async def test_a_date_that_is_no_day_is_a_422(
    client: AsyncClient, admin: Headers, value: str
) -> None:
    response = await client.get("/api/reports/day", params={"date": value}, headers=admin)
    assert response.status_code == 422, response.text
    assert "date" in response.json()["detail"]
