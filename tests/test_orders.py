"""Orders: priced by the server, price snapshots, open-only changes, cancelling (off the
table, pending tickets withdrawn), closing, listing, roles; and the whole service flow from
opening an order to releasing the table."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.test_kitchen import FAST_STREAM, EventReader, live_server, move, queue, tickets_of
from tests.test_menu import add_item, line, new_order, table_id

Headers = dict[str, str]


async def get_order(client: AsyncClient, staff: Headers, order_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/orders/{order_id}", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def order_count(client: AsyncClient, staff: Headers) -> int:
    return int((await client.get("/api/orders", headers=staff)).json()["total"])


def lines_of(order: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return [(i["name"], i["unit_price"], i["quantity"], i["amount"]) for i in order["items"]]


# -- Creating ----------------------------------------------------------------------------


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


# -- Reading -----------------------------------------------------------------------------


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
        await client.post(f"/api/orders/{closed['id']}/close", headers=staff)
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


# -- Changing ----------------------------------------------------------------------------


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


async def test_only_open_orders_change(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    dish = await add_item(client, admin)
    closed = await new_order(client, staff, [line(dish)])
    cancelled = await new_order(client, staff, [line(dish)])
    assert (
        await client.post(f"/api/orders/{closed['id']}/close", headers=staff)
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


# -- Cancelling and closing --------------------------------------------------------------


async def test_cancel_frees_the_table_and_withdraws_pending_tickets(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    wine = await add_item(client, admin, "7.00", name="Wine")
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(soup)], table_id=tid)
    (started,) = await tickets_of(client, staff, order["id"])
    assert (await move(client, staff, started["id"], "preparing")).status_code == 200
    await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(soup), line(wine)]}, headers=staff
    )
    await client.post(f"/api/tables/{tid}/assign-seat/1", headers=staff)
    other = await new_order(client, staff, [line(wine)])

    cancelled = await client.delete(f"/api/orders/{order['id']}", headers=staff)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert (await get_order(client, staff, order["id"]))["status"] == "cancelled"
    table = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert table["status"] == "available" and table["current_order_id"] is None
    assert not any(s["is_occupied"] for s in table["seats"])

    statuses = [t["status"] for t in await tickets_of(client, staff, order["id"])]
    assert statuses == ["preparing", "cancelled"]  # already cooking: left to the kitchen
    assert [(t["order_id"], t["status"]) for t in await queue(client, staff)] == [
        (order["id"], "preparing"),
        (other["id"], "pending"),
    ]
    # The table can take the next party at once.
    next_party = await new_order(client, staff, [], table_id=tid)
    assert next_party["table_id"] == tid


async def test_cancel_at_merged_tables_frees_the_group(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    five, six = await table_id(client, staff, 5), await table_id(client, staff, 6)
    merged = await client.post(f"/api/tables/merge-tables/{five}/{six}", headers=staff)
    assert merged.status_code == 200
    order = await new_order(client, staff, [], guests=8, table_id=five)
    assert (await client.delete(f"/api/orders/{order['id']}", headers=staff)).status_code == 200
    for tid in (five, six):
        view = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
        assert view["status"] == "available" and view["current_order_id"] is None
        assert view["merged_with"] == []


async def test_close_keeps_the_table_until_released(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin, "12.50")
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish, 2)], table_id=tid)
    too_long = await client.post(
        f"/api/orders/{order['id']}/close", json={"payment_note": "p" * 201}, headers=staff
    )
    assert too_long.status_code == 422
    closed = await client.post(
        f"/api/orders/{order['id']}/close", json={"payment_note": "card"}, headers=staff
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["payment_note"] == "card"
    assert body["closed_at"] is not None and body["total"] == "25.00"
    table = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert table["status"] == "occupied" and table["current_order_id"] == order["id"]
    released = await client.post(f"/api/tables/{tid}/release", headers=staff)
    assert released.json()["status"] == "cleaning"
    assert (await get_order(client, staff, order["id"]))["status"] == "closed"

    no_body = await new_order(client, staff, [line(dish)])
    response = await client.post(f"/api/orders/{no_body['id']}/close", headers=staff)
    assert response.status_code == 200 and response.json()["payment_note"] is None


# -- Concurrency -------------------------------------------------------------------------


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


async def test_closing_and_cancelling_at_once_one_wins(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish)], table_id=tid)
    oid = order["id"]
    responses = await asyncio.gather(
        *(client.post(f"/api/orders/{oid}/close", headers=staff) for _ in range(3)),
        *(client.delete(f"/api/orders/{oid}", headers=staff) for _ in range(3)),
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 5, statuses
    winner = responses[statuses.index(200)].json()["status"]
    assert (await get_order(client, staff, oid))["status"] == winner
    table = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    if winner == "closed":
        assert table["status"] == "occupied" and table["current_order_id"] == oid
    else:
        assert table["status"] == "available" and table["current_order_id"] is None


# -- Roles -------------------------------------------------------------------------------


async def test_orders_are_for_staff_and_admins(
    client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    _, customer = await make_user(Role.customer)
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
    for headers, expected in (({}, 401), (customer, 403)):
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
    assert (await client.post(f"/api/orders/{oid}/close", headers=admin)).status_code == 200
    assert (await client.delete(f"/api/orders/{by_admin['id']}", headers=admin)).status_code == 200


# -- The whole flow ----------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_done_when_flow(
    app: Any, client: AsyncClient, admin: Headers, make_user: UserFactory
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


async def test_equal_split_needs_parts_for_more_than_fifty_guests(
    client: AsyncClient, staff: Headers, admin: Headers
) -> None:
    big = await add_item(client, admin, "10.00")
    for number in (19, 20):
        assert (
            await client.put(
                f"/api/tables/{await table_id(client, staff, number)}",
                json={"capacity": 50},
                headers=admin,
            )
        ).status_code == 200
    t19, t20 = [await table_id(client, staff, n) for n in (19, 20)]
    await client.post(f"/api/tables/merge-tables/{t19}/{t20}", headers=staff)
    order = await new_order(client, staff, [line(big)], guests=60, table_id=t19)
    default = await client.post(
        f"/api/tables/split-bill/{t19}", json={"mode": "equal"}, headers=staff
    )
    assert default.status_code == 422 and "at most 50" in default.json()["detail"]
    given = await client.post(
        f"/api/tables/split-bill/{t19}", json={"mode": "equal", "parts": 4}, headers=staff
    )
    assert given.status_code == 200 and given.json()["order_id"] == order["id"]
