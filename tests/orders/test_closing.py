"""Cancelling an order (off the table, its unserved tickets cancelled) and closing it (the
table kept until released; refused while tickets are unserved, unless they are to be
cancelled); one winner when both happen at once."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from tests.factories import (
    Headers,
    add_item,
    get_order,
    line,
    move,
    new_order,
    queue,
    serve_all,
    table_id,
    tickets_of,
)


async def test_cancel_frees_the_table_and_cancels_its_unserved_tickets(
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
    assert statuses == ["cancelled", "cancelled"]  # being cooked or not: nobody will eat it
    assert [(t["order_id"], t["status"]) for t in await queue(client, staff)] == [
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
    await serve_all(client, staff, order["id"])
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
    await serve_all(client, staff, no_body["id"])
    response = await client.post(f"/api/orders/{no_body['id']}/close", headers=staff)
    assert response.status_code == 200 and response.json()["payment_note"] is None


async def test_closing_and_cancelling_at_once_one_wins(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish)], table_id=tid)
    oid = order["id"]
    responses = await asyncio.gather(
        *(
            client.post(f"/api/orders/{oid}/close", json={"cancel_tickets": True}, headers=staff)
            for _ in range(3)
        ),
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


async def test_an_order_with_unserved_tickets_is_closed_only_with_them_cancelled(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    """No ticket outlives its order: closing names the tickets the kitchen and bar have not
    served and changes nothing; with cancel_tickets they are cancelled (served ones stay)."""
    soup = await add_item(client, admin, "6.50", name="Soup")
    wine = await add_item(client, admin, "7.00", name="Wine", category="drinks")
    bread = await add_item(client, admin, "3.00", name="Bread")
    order = await new_order(client, staff, [line(bread)])
    await serve_all(client, staff, order["id"])
    changed = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(bread), line(soup), line(wine)]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    _, cooking, pouring = await tickets_of(client, staff, order["id"])
    assert (cooking["station"], pouring["station"]) == ("kitchen", "bar")
    assert (await move(client, staff, cooking["id"], "preparing")).status_code == 200

    for body in (None, {"payment_note": "card"}, {"cancel_tickets": False}):
        refused = await client.post(f"/api/orders/{order['id']}/close", json=body, headers=staff)
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert f"{cooking['id']} (kitchen, preparing)" in detail, detail
        assert f"{pouring['id']} (bar, pending)" in detail and "cancel_tickets=true" in detail
        assert refused.json()["ticket_ids"] == [cooking["id"], pouring["id"]]
    assert (await get_order(client, staff, order["id"]))["status"] == "open"
    assert [t["status"] for t in await tickets_of(client, staff, order["id"])] == [
        "served", "preparing", "pending",
    ]  # fmt: skip

    not_a_flag = await client.post(
        f"/api/orders/{order['id']}/close", json={"cancel_tickets": "yes"}, headers=staff
    )
    assert not_a_flag.status_code == 422
    closed = await client.post(
        f"/api/orders/{order['id']}/close",
        json={"cancel_tickets": True, "payment_note": "cash"},
        headers=staff,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["payment_note"] == "cash"
    assert [t["status"] for t in await tickets_of(client, staff, order["id"])] == [
        "served", "cancelled", "cancelled",
    ]  # fmt: skip
    assert await queue(client, staff) == []


async def test_an_order_whose_tickets_are_served_closes_without_asking(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50")
    order = await new_order(client, staff, [line(soup)])
    (ticket,) = await tickets_of(client, staff, order["id"])
    assert (await move(client, staff, ticket["id"], "preparing")).status_code == 200
    assert (await move(client, staff, ticket["id"], "ready")).status_code == 200
    ready = await client.post(f"/api/orders/{order['id']}/close", headers=staff)
    assert ready.status_code == 409 and "(kitchen, ready)" in ready.json()["detail"]
    assert (await move(client, staff, ticket["id"], "served")).status_code == 200
    closed = await client.post(f"/api/orders/{order['id']}/close", headers=staff)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    empty = await new_order(client, staff, [])
    assert (await client.post(f"/api/orders/{empty['id']}/close", headers=staff)).status_code == 200
