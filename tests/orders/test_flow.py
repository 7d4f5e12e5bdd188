"""The whole service, from opening an order to releasing the table: the order, the
kitchen screen's stream, closing, splitting the bill."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import Headers, add_item, line, move, new_order, table_id
from tests.servers import FAST_STREAM, EventReader, live_server


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_done_when_flow(
    app: FastAPI, client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    """A waiter opens an order for table 4 with 3 guests and 5 items; the kitchen screen
    shows the ticket; a cook moves it to preparing and ready; the waiter closes the order,
    splits the bill three ways to the cent and releases the table."""
    _, waiter = await make_user(Role.staff)
    _, cook = await make_user(Role.staff)
    menu = [
        await add_item(client, admin, price, name=name)
        for name, price in (
            ("Ribeye steak", "28.00"),
            ("Roast chicken", "19.50"),
            ("Fish and chips", "17.00"),
            ("Mushroom risotto", "15.50"),
            ("Cheese board", "20.00"),
        )
    ]
    table = await table_id(client, waiter, 4)
    assert (await client.get(f"/api/tables/{table}", headers=waiter)).json()["capacity"] == 4

    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/kitchen/stream", headers=cook) as response,
    ):
        screen = EventReader(response)
        order = await new_order(
            client, waiter, [line(item) for item in menu], guests=3, table_id=table
        )
        assert order["total"] == "100.00" and len(order["items"]) == 5

        (created,) = await screen.next()
        ticket = created["data"]
        assert created["event"] == "ticket_created" and ticket["order_id"] == order["id"]
        assert ticket["table_number"] == 4 and ticket["status"] == "pending"
        assert sorted(i["name"] for i in ticket["items"]) == sorted(i["name"] for i in menu)

        for status in ("preparing", "ready"):
            moved = await move(client, cook, ticket["id"], status)
            assert moved.status_code == 200, moved.text
        updates = await screen.next(2)
        assert [(e["event"], e["data"]["id"], e["data"]["status"]) for e in updates] == [
            ("ticket_updated", ticket["id"], "preparing"),
            ("ticket_updated", ticket["id"], "ready"),
        ]

    assert (await move(client, cook, ticket["id"], "served")).status_code == 200
    closed = await client.post(
        f"/api/orders/{order['id']}/close", json={"payment_note": "three cards"}, headers=waiter
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    split = await client.post(
        f"/api/tables/split-bill/{table}", json={"mode": "equal", "parts": 3}, headers=waiter
    )
    assert split.status_code == 200, split.text
    result = split.json()
    assert result["order_id"] == order["id"] and result["total"] == "100.00"
    amounts = [b["amount"] for b in result["bills"]]
    assert amounts == ["33.34", "33.33", "33.33"]
    assert sum(Decimal(a) for a in amounts) == Decimal(result["total"])
    by_guests = await client.post(f"/api/tables/split-bill/{table}", headers=waiter)
    assert [b["amount"] for b in by_guests.json()["bills"]] == amounts  # 3 guests by default

    released = await client.post(f"/api/tables/{table}/release", headers=waiter)
    assert released.status_code == 200
    assert released.json()["status"] == "cleaning" and released.json()["current_order_id"] is None
