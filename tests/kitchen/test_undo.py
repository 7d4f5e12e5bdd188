"""Moving a kitchen ticket back one step (app/kitchen/service.py, `undo`): free within a
minute of the move it undoes, later only with a reason, which the kitchen's events keep;
never past the first step, and never for an order that is over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from app.auth.models import Role
from app.kitchen.models import KitchenEvent
from tests.conftest import TestDatabase, UserFactory
from tests.factories import Headers, add_item, line, move, new_order, tickets_of

T0 = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def at(app: FastAPI, moment: datetime) -> None:
    app.state.clock = lambda: moment


async def undo(
    client: AsyncClient, headers: Headers, ticket_id: int, reason: str | None = None
) -> Response:
    body = None if reason is None else {"reason": reason}
    return await client.post(f"/api/kitchen/orders/{ticket_id}/undo", json=body, headers=headers)


async def one_ticket(client: AsyncClient, admin: Headers, staff: Headers) -> tuple[int, int]:
    """A new order of one dish: (order id, its ticket's id)."""
    dish = await add_item(client, admin)
    order = await new_order(client, staff, [line(dish)])
    (ticket,) = await tickets_of(client, staff, order["id"])
    return order["id"], ticket["id"]


async def events_of(db: TestDatabase, ticket_id: int) -> list[tuple[str, dict[str, Any]]]:
    async with db.database.reader() as session:
        query = select(KitchenEvent).where(KitchenEvent.ticket_id == ticket_id)
        rows = await session.scalars(query.order_by(KitchenEvent.id))
        return [(row.type, row.payload) for row in rows]


async def status_of(client: AsyncClient, staff: Headers, order_id: int) -> list[str]:
    return [t["status"] for t in await tickets_of(client, staff, order_id)]


async def test_a_move_is_undone_within_a_minute_without_a_reason(
    client: AsyncClient, app: FastAPI, admin: Headers, make_user: UserFactory, db: TestDatabase
) -> None:
    cook, headers = await make_user(Role.staff)
    at(app, T0)
    order, ticket = await one_ticket(client, admin, headers)
    assert (await move(client, headers, ticket, "preparing")).status_code == 200
    assert (await move(client, headers, ticket, "ready")).status_code == 200

    at(app, T0 + timedelta(seconds=60))  # a minute to the second: still in time
    back = await undo(client, headers, ticket)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "preparing" and back.json()["id"] == ticket
    assert datetime.fromisoformat(back.json()["updated_at"]) == T0 + timedelta(seconds=60)
    assert await status_of(client, headers, order) == ["preparing"]

    kind, payload = (await events_of(db, ticket))[-1]
    assert kind == "ticket_updated" and payload["status"] == "preparing"
    assert payload["moved_back"] == {
        "from_status": "ready", "to_status": "preparing", "reason": None,
        "by_user_id": cook.id, "within_undo_window": True,
    }  # fmt: skip

    # Forward again, as the ticket should have gone.
    assert (await move(client, headers, ticket, "ready")).status_code == 200
    assert await status_of(client, headers, order) == ["ready"]


async def test_after_a_minute_a_reason_is_needed_and_recorded(
    client: AsyncClient, app: FastAPI, admin: Headers, make_user: UserFactory, db: TestDatabase
) -> None:
    chef, headers = await make_user(Role.staff)
    at(app, T0)
    order, ticket = await one_ticket(client, admin, headers)
    for status in ("preparing", "ready", "served"):
        assert (await move(client, headers, ticket, status)).status_code == 200
    at(app, T0 + timedelta(seconds=61))
    before = await events_of(db, ticket)

    for reason in (None, "", "   "):
        refused = await undo(client, headers, ticket, reason)
        assert refused.status_code == 422, (reason, refused.text)
    refused = await undo(client, headers, ticket)
    assert "more than a minute ago" in refused.json()["detail"]
    assert "`reason`" in refused.json()["detail"] and "back to ready" in refused.json()["detail"]
    too_long = await undo(client, headers, ticket, "x" * 201)
    assert too_long.status_code == 422
    unknown_field = await client.post(
        f"/api/kitchen/orders/{ticket}/undo", json={"why": "oops"}, headers=headers
    )
    assert unknown_field.status_code == 422
    assert await status_of(client, headers, order) == ["served"]
    assert await events_of(db, ticket) == before  # a refusal records nothing

    back = await undo(client, headers, ticket, "  Served to the wrong table  ")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "ready"
    kind, payload = (await events_of(db, ticket))[-1]
    assert kind == "ticket_updated"
    assert payload["moved_back"] == {
        "from_status": "served", "to_status": "ready", "reason": "Served to the wrong table",
        "by_user_id": chef.id, "within_undo_window": False,
    }  # fmt: skip

    # A second step back is not the undoing of a fresh move: it needs a reason too, even
    # at once, and it is by an admin as well as any staff.
    again = await undo(client, headers, ticket)
    assert again.status_code == 422
    assert "already undone" in again.json()["detail"]
    second = await undo(client, admin, ticket, "Not plated either")
    assert second.status_code == 200 and second.json()["status"] == "preparing"
    assert await status_of(client, headers, order) == ["preparing"]


async def test_nothing_to_undo(
    client: AsyncClient, app: FastAPI, admin: Headers, staff: Headers
) -> None:
    at(app, T0)
    order, ticket = await one_ticket(client, admin, staff)
    pending = await undo(client, staff, ticket, "no reason is enough")
    assert pending.status_code == 409
    assert "pending; there is no move to undo" in pending.json()["detail"]
    assert pending.json()["current_status"] == "pending"

    assert (await move(client, staff, ticket, "preparing")).status_code == 200
    cancelled = await client.delete(f"/api/orders/{order}", headers=staff)
    assert cancelled.status_code == 200
    gone = await undo(client, staff, ticket)
    assert gone.status_code == 409 and "cancelled" in gone.json()["detail"]

    missing = await undo(client, staff, 987654)
    assert missing.status_code == 404


async def test_a_served_ticket_of_a_closed_order_stays_served(
    client: AsyncClient, app: FastAPI, admin: Headers, staff: Headers
) -> None:
    """A closed order's tickets are over: moving one back would leave a ticket in the
    queue for an order nobody will serve."""
    at(app, T0)
    order, ticket = await one_ticket(client, admin, staff)
    for status in ("preparing", "ready", "served"):
        assert (await move(client, staff, ticket, status)).status_code == 200
    assert (await client.post(f"/api/orders/{order}/close", headers=staff)).status_code == 200
    refused = await undo(client, staff, ticket, "oops")
    assert refused.status_code == 409
    assert f"Order {order} is closed" in refused.json()["detail"]
    assert await status_of(client, staff, order) == ["served"]


async def test_undo_and_close_at_once_never_leave_a_ticket_behind(
    client: AsyncClient, app: FastAPI, admin: Headers, staff: Headers
) -> None:
    """Closing an order whose ticket was just served while a cook moves it back: either
    the undo wins (the close is refused, naming the ticket) or the close does (the undo
    is refused); never a closed order with a ticket in the queue."""
    at(app, T0)
    for _ in range(3):
        order, ticket = await one_ticket(client, admin, staff)
        for status in ("preparing", "ready", "served"):
            assert (await move(client, staff, ticket, status)).status_code == 200
        back, close = await asyncio.gather(
            undo(client, staff, ticket),
            client.post(f"/api/orders/{order}/close", headers=staff),
        )
        assert sorted([back.status_code, close.status_code]) == [200, 409], (back, close)
        shown = (await client.get(f"/api/orders/{order}", headers=staff)).json()
        if close.status_code == 200:
            assert await status_of(client, staff, order) == ["served"]
        else:
            assert shown["status"] == "open"
            assert await status_of(client, staff, order) == ["ready"]


async def test_undo_is_for_staff(
    client: AsyncClient, app: FastAPI, admin: Headers, staff: Headers, guest: Headers
) -> None:
    at(app, T0)
    order, ticket = await one_ticket(client, admin, staff)
    assert (await move(client, staff, ticket, "preparing")).status_code == 200
    assert (await undo(client, {}, ticket)).status_code == 401
    assert (await undo(client, guest, ticket)).status_code == 403
    assert await status_of(client, staff, order) == ["preparing"]
