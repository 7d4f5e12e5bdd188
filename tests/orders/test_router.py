"""The /api/orders endpoints: invalid bodies are 422 and change nothing, unknown orders
are 404, and orders are for staff and admins."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Headers, add_item, get_order, line, lines_of, new_order, order_count


@pytest.mark.parametrize(
    "change",
    [
        {"items": [{"quantity": 0}]},
        {"items": [{"quantity": 100}]},
        {"items": [{"quantity": 1, "menu_item_id": None}]},
        {"customer_count": 0},
        {"special_requests": "x" * 501},
        {"items": [{"quantity": 1, "notes": "n" * 201}]},
    ],
)
async def test_invalid_orders_are_422(
    client: AsyncClient, admin: Headers, staff: Headers, change: dict[str, Any]
) -> None:
    dish = await add_item(client, admin)
    body: dict[str, Any] = {"customer_count": 2, "items": [line(dish)]}
    if "items" in change:
        body["items"] = [{**line(dish), **change["items"][0]}]
    else:
        body.update(change)
    response = await client.post("/api/orders", json=body, headers=staff)
    assert response.status_code == 422, response.text
    assert await order_count(client, staff) == 0

    order = await new_order(client, staff, [line(dish, 2)])
    update = await client.put(f"/api/orders/{order['id']}", json=body, headers=staff)
    assert update.status_code == 422, update.text
    assert lines_of(await get_order(client, staff, order["id"])) == [
        (dish["name"], "10.00", 2, "20.00")
    ]


async def test_unknown_orders_are_404(client: AsyncClient, staff: Headers) -> None:
    for method, path in (
        ("GET", "/api/orders/424242"),
        ("PUT", "/api/orders/424242"),
        ("DELETE", "/api/orders/424242"),
        ("POST", "/api/orders/424242/close"),
        ("GET", "/api/orders/424242/bill"),
    ):
        body = {"customer_count": 2} if method == "PUT" else None
        response = await client.request(method, path, json=body, headers=staff)
        assert response.status_code == 404, (method, path)
        assert "424242" in response.json()["detail"]


async def test_orders_are_for_staff_and_admins(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    dish = await add_item(client, admin)
    order = await new_order(client, staff, [line(dish)])
    oid = order["id"]
    calls = (
        ("GET", "/api/orders", None),
        ("POST", "/api/orders", {"customer_count": 1, "items": [line(dish)]}),
        ("GET", f"/api/orders/{oid}", None),
        ("PUT", f"/api/orders/{oid}", {"customer_count": 5}),
        ("DELETE", f"/api/orders/{oid}", None),
        ("POST", f"/api/orders/{oid}/close", None),
        ("GET", f"/api/orders/{oid}/bill", None),
    )
    for headers, expected in (({}, 401), (guest, 403)):
        for method, path, body in calls:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == expected, (method, path, response.text)
    assert await order_count(client, staff) == 1
    assert (await get_order(client, staff, oid))["customer_count"] == 2

    # An admin can do everything staff can.
    assert (await client.get("/api/orders", headers=admin)).json()["total"] == 1
    by_admin = await new_order(client, admin, [line(dish)])
    changed = await client.put(f"/api/orders/{oid}", json={"customer_count": 3}, headers=admin)
    assert changed.status_code == 200
    closed = await client.post(
        f"/api/orders/{oid}/close", json={"cancel_tickets": True}, headers=admin
    )
    assert closed.status_code == 200, closed.text
    assert (await client.delete(f"/api/orders/{by_admin['id']}", headers=admin)).status_code == 200
