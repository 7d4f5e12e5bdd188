"""The kitchen queue (app/kitchen/service.py): tickets sent by orders, forward-only status
moves (one winner when cooks race), removal rules, and roles."""

from __future__ import annotations

import asyncio
from datetime import datetime

from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import Headers, add_item, line, move, new_order, queue, table_id, tickets_of

# -- Tickets from orders -------------------------------------------------------------------


async def test_an_order_sends_a_ticket(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    tid = await table_id(client, staff, 3)
    order = await new_order(
        client,
        staff,
        [line(soup, 2, seat_number=1), line(steak, 1, notes="rare", seat_number=2)],
        table_id=tid,
    )
    (ticket,) = await queue(client, staff)
    assert set(ticket) >= {"id", "order_id", "table_number", "items", "status"}
    assert ticket["order_id"] == order["id"] and ticket["table_number"] == 3
    assert ticket["status"] == "pending"
    assert [(i["name"], i["quantity"], i["notes"], i["seat_number"]) for i in ticket["items"]] == [
        ("Soup", 2, None, 1),
        ("Steak", 1, "rare", 2),
    ]
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["updated_at"]) == created

    no_table = await new_order(client, staff, [line(soup)])
    assert [t["table_number"] for t in await tickets_of(client, staff, no_table["id"])] == [None]


async def test_an_order_without_items_sends_no_ticket(client: AsyncClient, staff: Headers) -> None:
    await new_order(client, staff, [])
    assert await queue(client, staff) == []


async def test_adding_items_sends_only_what_was_added(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    wine = await add_item(client, admin, "7.00", name="Wine")
    order = await new_order(client, staff, [line(soup, 2), line(steak, 1)])
    first = (await tickets_of(client, staff, order["id"]))[0]

    more = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(soup, 3), line(steak, 1), line(wine, 2, notes="with ice")]},
        headers=staff,
    )
    assert more.status_code == 200, more.text
    tickets = await tickets_of(client, staff, order["id"])
    assert len(tickets) == 2 and tickets[0]["id"] == first["id"]
    assert [(i["name"], i["quantity"]) for i in tickets[0]["items"]] == [("Soup", 2), ("Steak", 1)]
    added = tickets[1]
    assert added["status"] == "pending" and added["order_id"] == order["id"]
    assert [(i["name"], i["quantity"], i["notes"]) for i in added["items"]] == [
        ("Soup", 1, None),
        ("Wine", 2, "with ice"),
    ]

    # Nothing new (the same lines, fewer of them, or only guests changed): no ticket.
    for body in (
        {"items": [line(soup, 3), line(steak, 1), line(wine, 2, notes="with ice")]},
        {"items": [line(soup, 1), line(steak, 1)]},
        {"customer_count": 3, "special_requests": "window"},
    ):
        response = await client.put(f"/api/orders/{order['id']}", json=body, headers=staff)
        assert response.status_code == 200, response.text
        assert len(await tickets_of(client, staff, order["id"])) == 2, body


async def test_repeated_identical_lines_are_not_sent_twice(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    """Two separate lines of the same dish (same seat, no note); a PUT that keeps both is
    nothing new for the kitchen."""
    beer = await add_item(client, admin, "5.50", name="Beer")
    order = await new_order(client, staff, [line(beer), line(beer)])
    (first,) = await tickets_of(client, staff, order["id"])
    assert [i["quantity"] for i in first["items"]] == [1, 1]
    same = await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(beer), line(beer)]}, headers=staff
    )
    assert same.status_code == 200
    assert len(await tickets_of(client, staff, order["id"])) == 1
    third = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(beer), line(beer), line(beer)]},
        headers=staff,
    )
    assert third.status_code == 200
    tickets = await tickets_of(client, staff, order["id"])
    assert len(tickets) == 2
    assert [(i["name"], i["quantity"]) for i in tickets[1]["items"]] == [("Beer", 1)]


async def test_taking_items_off_withdraws_them_from_unstarted_tickets(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    wine = await add_item(client, admin, "7.00", name="Wine")
    order = await new_order(client, staff, [line(soup, 2), line(steak, 1)])
    first = (await tickets_of(client, staff, order["id"]))[0]
    assert (await move(client, staff, first["id"], "preparing")).status_code == 200
    await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(soup, 3), line(steak, 1), line(wine, 2)]},
        headers=staff,
    )
    # Wine comes off, and two soups: the unstarted ticket loses its soup and wine and is
    # cancelled; the soups already being cooked stay on the first ticket.
    changed = await client.put(
        f"/api/orders/{order['id']}", json={"items": [line(soup, 1), line(steak, 1)]}, headers=staff
    )
    assert changed.status_code == 200, changed.text
    first_now, second_now = await tickets_of(client, staff, order["id"])
    assert second_now["status"] == "cancelled" and second_now["items"] == []
    assert [(i["name"], i["quantity"]) for i in first_now["items"]] == [("Soup", 2), ("Steak", 1)]
    assert first_now["status"] == "preparing"

    more = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(soup, 1), line(steak, 1), line(wine, 3)]},
        headers=staff,
    )
    assert more.status_code == 200
    third = (await tickets_of(client, staff, order["id"]))[-1]
    await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(soup, 1), line(steak, 1), line(wine, 1)]},
        headers=staff,
    )
    reduced = next(
        t for t in await tickets_of(client, staff, order["id"]) if t["id"] == third["id"]
    )
    assert reduced["status"] == "pending"
    assert [(i["name"], i["quantity"]) for i in reduced["items"]] == [("Wine", 1)]


# -- The queue -----------------------------------------------------------------------------


async def test_queue_is_oldest_first_and_hides_served_and_cancelled(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    orders = [await new_order(client, staff, [line(dish, n)]) for n in (1, 2, 3, 4, 5)]
    tickets = await queue(client, staff)
    assert [t["order_id"] for t in tickets] == [o["id"] for o in orders]
    first, second, third, fourth, fifth = (t["id"] for t in tickets)

    for status in ("preparing", "ready", "served"):
        assert (await move(client, staff, first, status)).status_code == 200
    for status in ("preparing", "ready"):
        assert (await move(client, staff, second, status)).status_code == 200
    assert (await move(client, staff, third, "preparing")).status_code == 200
    cancelled = await client.delete(f"/api/orders/{orders[4]['id']}", headers=staff)
    assert cancelled.status_code == 200

    assert [t["id"] for t in await queue(client, staff)] == [second, third, fourth]
    by_status = {
        status: [t["id"] for t in await queue(client, staff, status=status)]
        for status in ("pending", "preparing", "ready", "served", "cancelled")
    }
    assert by_status == {
        "pending": [fourth],
        "preparing": [third],
        "ready": [second],
        "served": [first],
        "cancelled": [fifth],
    }
    bad = await client.get("/api/kitchen/orders", params={"status": "eaten"}, headers=staff)
    assert bad.status_code == 422


# -- Status moves --------------------------------------------------------------------------


async def test_tickets_move_forward_one_step_at_a_time(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    await new_order(client, staff, [line(dish)])
    (ticket,) = await queue(client, staff)
    tid = ticket["id"]

    skip = await move(client, staff, tid, "ready")
    assert skip.status_code == 409 and "pending" in skip.json()["detail"]
    assert (await move(client, staff, tid, "served")).status_code == 409
    assert (await move(client, staff, tid, "pending")).status_code == 409

    moved = await move(client, staff, tid, "preparing")
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "preparing" and moved.json()["id"] == tid
    assert datetime.fromisoformat(moved.json()["updated_at"]) >= datetime.fromisoformat(
        ticket["created_at"]
    )
    back = await move(client, staff, tid, "pending")
    assert back.status_code == 409 and "preparing" in back.json()["detail"]
    again = await move(client, staff, tid, "preparing")
    assert again.status_code == 409 and "preparing" in again.json()["detail"]
    assert (await move(client, staff, tid, "served")).status_code == 409

    assert (await move(client, admin, tid, "ready")).json()["status"] == "ready"
    assert (await move(client, staff, tid, "served")).json()["status"] == "served"
    for status in ("pending", "preparing", "ready", "served", "cancelled"):
        done = await move(client, staff, tid, status)
        assert done.status_code == 409 and "served" in done.json()["detail"], status

    assert (await move(client, staff, 999999, "preparing")).status_code == 404
    invalid = await client.put(
        f"/api/kitchen/orders/{tid}", json={"status": "burnt"}, headers=staff
    )
    assert invalid.status_code == 422


async def test_a_cancelled_ticket_cannot_be_cooked(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    order = await new_order(client, staff, [line(dish)])
    assert (await client.delete(f"/api/orders/{order['id']}", headers=staff)).status_code == 200
    (ticket,) = await tickets_of(client, staff, order["id"])
    assert ticket["status"] == "cancelled"
    refused = await move(client, staff, ticket["id"], "preparing")
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]


async def test_two_cooks_at_once_only_one_wins(
    client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    cooks = [(await make_user(Role.staff))[1] for _ in range(10)]
    dish = await add_item(client, admin)
    await new_order(client, cooks[0], [line(dish)])
    (ticket,) = await queue(client, cooks[0])
    responses = await asyncio.gather(
        *(move(client, cook, ticket["id"], "preparing") for cook in cooks)
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 9, statuses
    for lost in (r for r in responses if r.status_code == 409):
        assert "preparing" in lost.json()["detail"]
    assert [t["status"] for t in await queue(client, cooks[0])] == ["preparing"]

    # And again for the next step.
    responses = await asyncio.gather(*(move(client, cook, ticket["id"], "ready") for cook in cooks))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 9, statuses


# -- Removing tickets ----------------------------------------------------------------------


async def test_removing_tickets(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    dish = await add_item(client, admin)
    for n in range(4):
        await new_order(client, staff, [line(dish, n + 1)])
    pending, preparing, ready, served = (t["id"] for t in await queue(client, staff))
    await move(client, staff, preparing, "preparing")
    for status in ("preparing", "ready"):
        await move(client, staff, ready, status)
    for status in ("preparing", "ready", "served"):
        await move(client, staff, served, status)
    cancelled_order = await new_order(client, staff, [line(dish)])
    await client.delete(f"/api/orders/{cancelled_order['id']}", headers=staff)
    (cancelled,) = await tickets_of(client, staff, cancelled_order["id"])

    for tid in (preparing, ready):
        for headers in (staff, admin):
            busy = await client.delete(f"/api/kitchen/orders/{tid}", headers=headers)
            assert busy.status_code == 409, tid
    assert (await client.delete(f"/api/kitchen/orders/{pending}", headers=staff)).status_code == 403
    assert (await client.delete(f"/api/kitchen/orders/{served}", headers=staff)).status_code == 204
    removed = await client.delete(f"/api/kitchen/orders/{cancelled['id']}", headers=staff)
    assert removed.status_code == 204
    assert (await client.delete(f"/api/kitchen/orders/{pending}", headers=admin)).status_code == 204

    assert [t["id"] for t in await queue(client, staff)] == [preparing, ready]
    assert await queue(client, staff, status="served") == []
    assert await queue(client, staff, status="cancelled") == []
    assert await queue(client, staff, status="pending") == []
    for gone in (pending, served):
        assert (
            await client.delete(f"/api/kitchen/orders/{gone}", headers=admin)
        ).status_code == 404
        assert (await move(client, staff, gone, "preparing")).status_code == 404


# -- Roles ---------------------------------------------------------------------------------


async def test_kitchen_is_for_staff_and_admins(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    dish = await add_item(client, admin)
    await new_order(client, staff, [line(dish)])
    (ticket,) = await queue(client, staff)
    path = f"/api/kitchen/orders/{ticket['id']}"
    for headers, expected in (({}, 401), (guest, 403)):
        assert (await client.get("/api/kitchen/orders", headers=headers)).status_code == expected
        assert (await client.get("/api/kitchen/stream", headers=headers)).status_code == expected
        assert (
            await client.put(path, json={"status": "preparing"}, headers=headers)
        ).status_code == expected
        assert (await client.delete(path, headers=headers)).status_code == expected
    assert [t["status"] for t in await queue(client, admin)] == ["pending"]
