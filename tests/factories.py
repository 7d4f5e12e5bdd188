"""Shared set-up, made through the API as a client would: the restaurant's settings, users
registered and logged in, bookings, menu items, orders, tables and kitchen tickets.

Menu items are not seeded by the migrations; the 20 tables are (numbers 1 to 20).
Users are made by the `make_user` fixture and its `guest`, `staff` and `admin` shortcuts
(tests/conftest.py).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.auth.models import Role
from tests.conftest import UserFactory

Headers = dict[str, str]
Json = dict[str, Any]
Params = dict[str, str | int]

MONDAY, FRIDAY = 0, 4
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAY = {day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEKDAYS}


# -- Days ------------------------------------------------------------------------------


def next_weekday(weekday: int, zone: str = "Europe/London", *, at_least_days: int = 1) -> date:
    """The next given weekday (0 = Monday) at least `at_least_days` from today in `zone`."""
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=at_least_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def tomorrow_at_noon(zone: ZoneInfo = LONDON) -> datetime:
    """12:00 tomorrow in `zone`: "a few hours from now" is then inside a day's service
    whatever the time of day the suite runs."""
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=zone)


# -- The restaurant --------------------------------------------------------------------


async def configure(client: AsyncClient, admin: Headers, **settings: object) -> Json:
    """Change the restaurant's settings (PUT /restaurant) as admin."""
    response = await client.put("/restaurant", json=settings, headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- Accounts through the API ----------------------------------------------------------

REGISTER = {"email": "Ada@Example.com", "password": "correct horse", "name": "Ada"}


async def register(client: AsyncClient, path: str = "/auth/register", **extra: str) -> Json:
    """Register Ada (REGISTER, with `extra` changes), sign in, and return the account as
    GET /users/me shows it (registration itself answers 202, the same for every address)."""
    body = {**REGISTER, **extra}
    response = await client.post(path, json=body)
    assert response.status_code == 202, response.text
    login = await client.post("/auth/login", json={"email": body["email"],
                                                   "password": body["password"]})  # fmt: skip
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = await client.get("/users/me", headers=bearer)
    assert me.status_code == 200, me.text
    return dict(me.json())


async def login_form(client: AsyncClient, username: str, password: str) -> Response:
    """Log in with the OAuth2 password form (POST /auth/token)."""
    return await client.post("/auth/token", data={"username": username, "password": password})


# -- Bookings --------------------------------------------------------------------------


def booking_body(day: date, at: str, party: int, **extra: object) -> Json:
    """The body of POST /bookings: `at` is the restaurant's local time, HH:MM."""
    return {"date": day.isoformat(), "time": at, "party_size": party, **extra}


async def book(
    client: AsyncClient, headers: Headers, day: date, at: str, party: int, **extra: object
) -> Response:
    """Ask for a table for `party` at local time `at` on `day`, whatever the answer."""
    return await client.post(
        "/bookings", json=booking_body(day, at, party, **extra), headers=headers
    )


async def booked(
    client: AsyncClient, headers: Headers, day: date, at: str, party: int, **extra: object
) -> Json:
    """A booking made (201) for `party` at local time `at` on `day`."""
    response = await book(client, headers, day, at, party, **extra)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def availability(
    client: AsyncClient, day: date, party_size: int, at: str | None = None
) -> Response:
    """GET /bookings/availability: the day's slots, or one time's free tables."""
    params: Params = {"date": day.isoformat(), "party_size": party_size}
    if at is not None:
        params["time"] = at
    return await client.get("/bookings/availability", params=params)


async def seated_at_its_start(
    client: AsyncClient, app: FastAPI, staff: Headers, make_user: UserFactory, table: int
) -> tuple[Json, Json]:
    """A guest's booking for two at 19:00 next Friday on `table`, seated as it starts:
    (the booking as made, the seat answer)."""
    _, guest = await make_user(Role.customer)
    booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2, table_id=table)
    app.state.clock = lambda: datetime.fromisoformat(booking["starts_at"])
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    return booking, dict(seated.json())


# -- The menu --------------------------------------------------------------------------

_names = itertools.count(1)


async def add_item(
    client: AsyncClient,
    admin: Headers,
    price: str = "10.00",
    *,
    name: str | None = None,
    category: str = "mains",
    **extra: Any,
) -> Json:
    """Create a menu item as admin and return it."""
    body = {"name": name or f"Dish {next(_names)}", "price": price, "category": category, **extra}
    response = await client.post("/api/menu", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def line(item: Json, quantity: int = 1, **extra: Any) -> Json:
    """An order line: `quantity` of the menu `item`."""
    return {"menu_item_id": item["id"], "quantity": quantity, **extra}


# -- Orders ----------------------------------------------------------------------------


async def new_order(
    client: AsyncClient,
    staff: Headers,
    items: list[Json] | None = None,
    guests: int = 2,
    **extra: Any,
) -> Json:
    """Open an order for `guests`; `items` are order lines (see `line`), none if left out."""
    body: Json = {"customer_count": guests, **extra}
    if items is not None:
        body["items"] = items
    response = await client.post("/api/orders", json=body, headers=staff)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def new_order_id(client: AsyncClient, staff: Headers, guests: int = 2, **extra: Any) -> int:
    """Open an order without items for `guests` (a party not yet at a table): its id."""
    return int((await new_order(client, staff, guests=guests, **extra))["id"])


async def get_order(client: AsyncClient, staff: Headers, order_id: int) -> Json:
    response = await client.get(f"/api/orders/{order_id}", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def order_count(client: AsyncClient, staff: Headers) -> int:
    return int((await client.get("/api/orders", headers=staff)).json()["total"])


def lines_of(order: Json) -> list[tuple[str, str, int, str]]:
    """(name, unit price, quantity, amount) of each of the order's lines."""
    return [(i["name"], i["unit_price"], i["quantity"], i["amount"]) for i in order["items"]]


# -- Tables ----------------------------------------------------------------------------


async def table_id(client: AsyncClient, staff: Headers, number: int) -> int:
    """The id of the table numbered `number`."""
    tables = (await client.get("/api/tables", headers=staff)).json()
    return int(next(t["id"] for t in tables if t["table_number"] == number))


async def seat_walk_in(client: AsyncClient, staff: Headers, number: int, guests: int = 2) -> Json:
    """Seat a new party of `guests` (an order without items) at table `number`: the table."""
    tid = await table_id(client, staff, number)
    order = await new_order_id(client, staff, guests)
    response = await client.post(f"/api/tables/{tid}/assign/{order}", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- The kitchen -----------------------------------------------------------------------


async def queue(client: AsyncClient, staff: Headers, **params: str) -> list[Json]:
    """The kitchen's queue (GET /api/kitchen/orders)."""
    response = await client.get("/api/kitchen/orders", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return list(response.json())


async def tickets_of(client: AsyncClient, staff: Headers, order_id: int) -> list[Json]:
    """Every ticket of the order, whatever its status, oldest first."""
    found = []
    for status in ("pending", "preparing", "ready", "served", "cancelled"):
        found += [t for t in await queue(client, staff, status=status) if t["order_id"] == order_id]
    return sorted(found, key=lambda t: t["id"])


async def move(client: AsyncClient, staff: Headers, ticket_id: int, status: str) -> Response:
    """Move a kitchen ticket to `status`, whatever the answer."""
    return await client.put(
        f"/api/kitchen/orders/{ticket_id}", json={"status": status}, headers=staff
    )


async def serve_all(client: AsyncClient, staff: Headers, order_id: int) -> None:
    """Move each of the order's open tickets forward until it is served (then the order
    can be closed)."""
    for ticket in await tickets_of(client, staff, order_id):
        steps = ("pending", "preparing", "ready", "served")
        if ticket["status"] not in steps:
            continue
        for status in steps[steps.index(ticket["status"]) + 1 :]:
            response = await move(client, staff, ticket["id"], status)
            assert response.status_code == 200, response.text
