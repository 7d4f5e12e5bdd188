"""Orders (app/orders/service.py): priced by the server, price snapshots, a party that
outgrows its table, listing, open-only changes, and waiters changing one order at once."""

from __future__ import annotations

import asyncio
from typing import Any

from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import (
    Headers,
    add_item,
    get_order,
    line,
    lines_of,
    new_order,
    order_count,
    queue,
    table_id,
    tickets_of,
)

# -- Creating ------------------------------------------------------------------------------


async def test_create_order_is_priced_by_the_server(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    response = await client.post(
        "/api/orders",
        json={
            "customer_count": 2,
            "special_requests": "nut allergy",
            "total": "0.01",  # ignored: the server prices the order
            "items": [
                {"menu_item_id": soup["id"], "quantity": 3, "unit_price": "0.01"},
                {"menu_item_id": steak["id"], "quantity": 1, "seat_number": 2, "notes": "rare"},
            ],
        },
        headers=staff,
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "open" and order["customer_count"] == 2
    assert order["special_requests"] == "nut allergy"
    assert order["table_id"] is None and order["closed_at"] is None
    assert order["payment_note"] is None
    assert lines_of(order) == [("Soup", "6.50", 3, "19.50"), ("Steak", "28.00", 1, "28.00")]
    assert [(i["menu_item_id"], i["seat_number"], i["notes"]) for i in order["items"]] == [
        (soup["id"], None, None),
        (steak["id"], 2, "rare"),
    ]
    assert order["total"] == "47.50"
    assert await get_order(client, staff, order["id"]) == order


async def test_an_order_can_be_opened_at_a_table(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish)], guests=4, table_id=tid)
    assert order["table_id"] == tid
    table = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert table["status"] == "occupied" and table["current_order_id"] == order["id"]
    missing = await client.post(
        "/api/orders", json={"customer_count": 1, "table_id": 9999}, headers=staff
    )
    assert missing.status_code == 404


async def test_boundary_values_are_accepted(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin, "1.00")
    order = await new_order(
        client, staff, [line(dish, 99), line(dish, 1)], guests=1, special_requests="y" * 500
    )
    assert order["total"] == "100.00" and len(order["special_requests"]) == 500


async def test_unknown_or_unavailable_items_are_422_and_create_nothing(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    off = await add_item(client, admin, "9.00", name="Squid", is_available=False)
    tid = await table_id(client, staff, 3)
    response = await client.post(
        "/api/orders",
        json={
            "customer_count": 2,
            "table_id": tid,
            "items": [line(soup), line(off), {"menu_item_id": 987654, "quantity": 1}],
        },
        headers=staff,
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "Squid" in detail and "987654" in detail and "Soup" not in detail
    assert await order_count(client, staff) == 0
    assert await queue(client, staff) == []
    table = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert table["status"] == "available" and table["current_order_id"] is None

    order = await new_order(client, staff, [line(soup)])
    update = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(soup), line(off)], "customer_count": 5},
        headers=staff,
    )
    assert update.status_code == 422 and "Squid" in update.json()["detail"]
    unchanged = await get_order(client, staff, order["id"])
    assert lines_of(unchanged) == [("Soup", "6.50", 1, "6.50")]
    assert unchanged["customer_count"] == 2
    assert len(await tickets_of(client, staff, order["id"])) == 1


async def test_a_seated_party_does_not_outgrow_its_table(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    tables = (await client.get("/api/tables", headers=staff)).json()
    small = next(t for t in tables if t["capacity"] == 2)
    order = await new_order(client, staff, [line(soup)], table_id=small["id"])
    grow = await client.put(f"/api/orders/{order['id']}", json={"customer_count": 3}, headers=staff)
    assert grow.status_code == 409, grow.text
    assert grow.json()["detail"] == (
        f"Table {small['table_number']} seats 2, the party is 3; merge tables first"
    )
    assert (await get_order(client, staff, order["id"]))["customer_count"] == 2

    released = await client.post(f"/api/tables/{small['id']}/release", headers=staff)
    assert released.status_code == 200, released.text
    standing = await client.put(
        f"/api/orders/{order['id']}", json={"customer_count": 3}, headers=staff
    )
    assert standing.status_code == 200 and standing.json()["customer_count"] == 3


# -- Reading -------------------------------------------------------------------------------


async def test_list_orders_newest_first_with_filters_and_pages(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    three, four = await table_id(client, staff, 3), await table_id(client, staff, 4)
    at_three = await new_order(client, staff, [line(dish)], table_id=three)
    closed = await new_order(client, staff, [line(dish)], table_id=four)
    cancelled = await new_order(client, staff, [line(dish)])
    walk_ins = [await new_order(client, staff, [line(dish)]) for _ in range(3)]
    assert (
        await client.post(
            f"/api/orders/{closed['id']}/close", json={"cancel_tickets": True}, headers=staff
        )
    ).status_code == 200
    assert (await client.delete(f"/api/orders/{cancelled['id']}", headers=staff)).status_code == 200
    everything = [at_three, closed, cancelled, *walk_ins]
    newest_first = [o["id"] for o in reversed(everything)]

    page = (await client.get("/api/orders", headers=staff)).json()
    assert page["total"] == 6 and page["limit"] == 50 and page["offset"] == 0
    assert [o["id"] for o in page["items"]] == newest_first

    async def ids(**params: Any) -> tuple[list[int], int]:
        response = await client.get("/api/orders", params=params, headers=staff)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]], response.json()["total"]

    assert await ids(limit=2) == (newest_first[:2], 6)
    assert await ids(limit=2, offset=2) == (newest_first[2:4], 6)
    assert await ids(limit=2, offset=6) == ([], 6)
    open_ids = [o["id"] for o in reversed([at_three, *walk_ins])]
    assert await ids(status="open") == (open_ids, 4)
    assert await ids(status="open", limit=1, offset=1) == (open_ids[1:2], 4)
    assert await ids(status="closed") == ([closed["id"]], 1)
    assert await ids(status="cancelled") == ([cancelled["id"]], 1)
    assert await ids(table_id=three) == ([at_three["id"]], 1)
    assert await ids(table_id=four, status="closed") == ([closed["id"]], 1)
    assert await ids(table_id=four, status="open") == ([], 0)

    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "eaten"}):
        response = await client.get("/api/orders", params=params, headers=staff)
        assert response.status_code == 422, params


# -- Changing ------------------------------------------------------------------------------


async def test_update_replaces_items_guests_and_requests(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    order = await new_order(client, staff, [line(soup, 2)], special_requests="window")

    changed = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(steak, 2, seat_number=1)], "customer_count": 4, "total": "1.00"},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert lines_of(body) == [("Steak", "28.00", 2, "56.00")]
    assert body["total"] == "56.00" and body["customer_count"] == 4
    assert body["special_requests"] == "window"  # left out: kept
    assert await get_order(client, staff, order["id"]) == body

    guests_only = await client.put(
        f"/api/orders/{order['id']}", json={"special_requests": "booth"}, headers=staff
    )
    assert guests_only.json()["special_requests"] == "booth"
    assert lines_of(guests_only.json()) == [("Steak", "28.00", 2, "56.00")]
    cleared = await client.put(
        f"/api/orders/{order['id']}", json={"special_requests": None}, headers=staff
    )
    assert cleared.json()["special_requests"] is None
    emptied = await client.put(f"/api/orders/{order['id']}", json={"items": []}, headers=staff)
    assert emptied.status_code == 200
    assert emptied.json()["items"] == [] and emptied.json()["total"] == "0.00"


async def test_prices_are_snapshotted_when_ordered(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    wine = await add_item(client, admin, "7.00", name="Wine")
    order = await new_order(client, staff, [line(soup, 2)])
    for item, price in ((soup, "8.00"), (wine, "9.25")):
        response = await client.put(f"/api/menu/{item['id']}", json={"price": price}, headers=admin)
        assert response.status_code == 200

    shown = await get_order(client, staff, order["id"])
    assert lines_of(shown) == [("Soup", "6.50", 2, "13.00")] and shown["total"] == "13.00"
    bill = (await client.get(f"/api/orders/{order['id']}/bill", headers=staff)).json()
    assert bill["subtotal"] == "13.00"

    # A kept line keeps its price; a new line is priced from the menu now.
    more = await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(soup, 2), line(wine)]}, headers=staff
    )
    assert more.status_code == 200, more.text
    assert lines_of(more.json()) == [("Soup", "6.50", 2, "13.00"), ("Wine", "9.25", 1, "9.25")]
    assert more.json()["total"] == "22.25"
    fresh = await new_order(client, staff, [line(soup)])
    assert lines_of(fresh) == [("Soup", "8.00", 1, "8.00")]


async def test_put_keeps_line_ids_and_a_dish_taken_off_the_menu(
    client: AsyncClient, staff: Headers, admin: Headers
) -> None:
    steak = await add_item(client, admin, "28.00")
    cake = await add_item(client, admin, "7.00", category="desserts")
    order = await new_order(client, staff, [line(steak, 2)])
    first_id = order["items"][0]["id"]
    await client.put(f"/api/menu/{steak['id']}", json={"is_available": False}, headers=admin)

    # The steak already ordered stays; the dessert is added.
    updated = await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(steak, 2), line(cake)]}, headers=staff
    )
    assert updated.status_code == 200, updated.text
    items = updated.json()["items"]
    assert items[0]["id"] == first_id and items[0]["quantity"] == 2
    assert updated.json()["total"] == "63.00"
    # More of a dish that is off the menu is refused, and nothing changes.
    more = await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(steak, 3), line(cake)]}, headers=staff
    )
    assert more.status_code == 422 and "not available" in more.json()["detail"]
    shown = (await client.get(f"/api/orders/{order['id']}", headers=staff)).json()
    assert (shown["items"][0]["id"], shown["items"][0]["quantity"]) == (first_id, 2)


async def test_only_open_orders_change(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    dish = await add_item(client, admin)
    closed = await new_order(client, staff, [line(dish)])
    cancelled = await new_order(client, staff, [line(dish)])
    assert (
        await client.post(
            f"/api/orders/{closed['id']}/close", json={"cancel_tickets": True}, headers=staff
        )
    ).status_code == 200
    assert (await client.delete(f"/api/orders/{cancelled['id']}", headers=staff)).status_code == 200
    for order, status in ((closed, "closed"), (cancelled, "cancelled")):
        oid = order["id"]
        attempts = (
            await client.put(f"/api/orders/{oid}", json={"items": [line(dish, 5)]}, headers=staff),
            await client.put(f"/api/orders/{oid}", json={"customer_count": 3}, headers=staff),
            await client.delete(f"/api/orders/{oid}", headers=staff),
            await client.post(f"/api/orders/{oid}/close", headers=staff),
        )
        for response in attempts:
            assert response.status_code == 409, response.text
            assert status in response.json()["detail"]
        shown = await get_order(client, staff, oid)
        assert shown["status"] == status and shown["customer_count"] == 2
        assert lines_of(shown) == [(dish["name"], "10.00", 1, "10.00")]


# -- Concurrency ---------------------------------------------------------------------------


async def test_waiters_adding_the_same_items_at_once_send_one_ticket(
    client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    waiters = [(await make_user(Role.staff))[1] for _ in range(5)]
    soup = await add_item(client, admin, "6.50", name="Soup")
    cake = await add_item(client, admin, "7.00", name="Cake")
    order = await new_order(client, waiters[0], [line(soup)])
    body = {"items": [line(soup), line(cake, 2)]}
    responses = await asyncio.gather(
        *(client.put(f"/api/orders/{order['id']}", json=body, headers=w) for w in waiters)
    )
    assert [r.status_code for r in responses] == [200] * 5
    shown = await get_order(client, waiters[0], order["id"])
    assert lines_of(shown) == [("Soup", "6.50", 1, "6.50"), ("Cake", "7.00", 2, "14.00")]
    tickets = await tickets_of(client, waiters[0], order["id"])
    assert [[(i["name"], i["quantity"]) for i in t["items"]] for t in tickets] == [
        [("Soup", 1)],
        [("Cake", 2)],
    ]
