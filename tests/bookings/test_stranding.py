"""Table changes that would strand bookings (app/floor/service.py update_table,
app/bookings/stranding.py): retiring a table or shrinking it below a booked party is a
409 listing the bookings, changing nothing, unless cancel_affected=true: then each moves
to another fitting table free at its time (same id, no overlap, no e-mail) or, with
nowhere to go, is cancelled with one e-mail saying why. Two such changes racing for the
last free table: one booking gets it, the other is cancelled."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from app.auth.models import Role
from app.bookings.models import ACTIVE_STATUSES, Booking
from app.floor.models import RestaurantTable
from app.notifications.models import MessageKind
from tests.conftest import TestDatabase, UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    booked,
    next_weekday,
    seat_walk_in,
    seated_at_its_start,
)
from tests.notifications.helpers import outbox_rows


async def edit(
    client: AsyncClient, admin: Headers, table: int, body: dict[str, Any], *, cancel: bool
) -> Response:
    params = {"cancel_affected": "true"} if cancel else {}
    return await client.put(f"/api/tables/{table}", json=body, params=params, headers=admin)


async def state(db: TestDatabase) -> tuple[Any, ...]:
    """Every table's size and bookability, every booking's table and status, the outbox."""
    async with db.database.reader() as session:
        tables = (
            await session.execute(
                select(RestaurantTable.id, RestaurantTable.capacity, RestaurantTable.bookable)
            )
        ).all()
        bookings = (
            await session.execute(select(Booking.id, Booking.table_id, Booking.status))
        ).all()
    return sorted(tables), sorted(bookings), [r.id for r in await outbox_rows(db)]


async def overlapping(db: TestDatabase, table: int, starts_at: str) -> list[int]:
    """The active bookings of `table` overlapping the booking that starts at `starts_at`."""
    at = datetime.fromisoformat(starts_at)
    async with db.database.reader() as session:
        rows = await session.scalars(
            select(Booking.id).where(
                Booking.table_id == table,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at <= at,
                Booking.ends_at > at,
            )
        )
        return list(rows)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"bookable": False}, "Table 5 no longer takes bookings"),
        ({"capacity": 2}, "Table 5 now seats 2, the party is 4"),
    ],
    ids=["retired", "shrunk"],
)
async def test_a_booking_on_a_retired_or_smaller_table_moves_to_another(
    client: AsyncClient,
    db: TestDatabase,
    admin: Headers,
    make_user: UserFactory,
    body: dict[str, Any],
    why: str,
) -> None:
    day = next_weekday(FRIDAY)
    guest, headers = await make_user(Role.customer)
    _, other = await make_user(Role.customer)
    await booked(client, other, day, "19:00", 4, table_id=3)  # the best fit is taken
    booking = await booked(client, headers, day, "19:00", 4, table_id=5)
    before = await state(db)

    refused = await edit(client, admin, 5, body, cancel=False)
    assert refused.status_code == 409, refused.text
    assert refused.json()["affected"] == [{
        "id": booking["id"], "date": day.isoformat(), "time": "19:00", "party_size": 4,
        "status": "confirmed", "table_id": 5, "table_number": 5, "guest_name": guest.name,
        "reason": why,
    }]  # fmt: skip
    assert await state(db) == before

    done = await edit(client, admin, 5, body, cancel=True)
    assert done.status_code == 200, done.text
    for key, value in body.items():
        assert done.json()[key] == value
    assert done.json()["cancelled"] == []
    assert done.json()["moved"] == [{
        "id": booking["id"], "date": day.isoformat(), "time": "19:00", "party_size": 4,
        "guest_name": guest.name, "from_table_id": 5, "from_table_number": 5,
        "table_id": 4, "table_number": 4,
    }]  # fmt: skip
    mine = (await client.get(f"/bookings/{booking['id']}", headers=headers)).json()
    assert (mine["status"], mine["table_id"], mine["starts_at"]) == (
        "confirmed", 4, booking["starts_at"])  # fmt: skip
    assert await overlapping(db, 4, booking["starts_at"]) == [booking["id"]]
    assert [r.id for r in await outbox_rows(db)] == before[2]  # a move sends no e-mail


async def test_a_booking_with_nowhere_to_go_is_cancelled_with_one_email(
    client: AsyncClient, db: TestDatabase, admin: Headers, make_user: UserFactory
) -> None:
    day = next_weekday(FRIDAY)
    ada, ada_headers = await make_user(Role.customer)
    bob, bob_headers = await make_user(Role.customer)
    _, other = await make_user(Role.customer)
    lunch = await booked(client, ada_headers, day, "13:00", 10, table_id=19)
    dinner = await booked(client, bob_headers, day, "19:00", 10, table_id=19)
    taken = await booked(client, other, day, "19:00", 12, table_id=20)  # the only other
    before = await state(db)

    refused = await edit(client, admin, 19, {"bookable": False}, cancel=False)
    assert refused.status_code == 409
    assert refused.json()["booking_ids"] == [lunch["id"], dinner["id"]]
    assert await state(db) == before

    done = await edit(client, admin, 19, {"bookable": False}, cancel=True)
    assert done.status_code == 200, done.text
    assert [(m["id"], m["table_number"]) for m in done.json()["moved"]] == [(lunch["id"], 20)]
    why = "Your table can no longer be used and no other table for 10 is free at that time"
    assert [(c["id"], c["reason"]) for c in done.json()["cancelled"]] == [(dinner["id"], why)]
    assert (await client.get(f"/bookings/{dinner['id']}", headers=bob_headers)).json()[
        "status"
    ] == "cancelled"
    assert await overlapping(db, 20, taken["starts_at"]) == [taken["id"]]
    notices = [r for r in await outbox_rows(db) if r.id not in before[2]]
    assert [(r.kind, r.booking_id, r.recipient, r.note) for r in notices] == [
        (MessageKind.booking_cancelled, dinner["id"], bob.email, why)
    ]
    assert notices[0].body_text is not None and why in notices[0].body_text
    assert ada.email not in {r.recipient for r in notices}


async def test_a_table_change_that_strands_nothing_is_200(
    client: AsyncClient, app: FastAPI, db: TestDatabase, admin: Headers, staff: Headers,
    make_user: UserFactory,
) -> None:  # fmt: skip
    day = next_weekday(FRIDAY)
    _, headers = await make_user(Role.customer)
    await booked(client, headers, day, "19:00", 2, table_id=5)
    before = await state(db)
    shrunk = await edit(client, admin, 5, {"capacity": 2, "area": "bar"}, cancel=False)
    assert shrunk.status_code == 200, shrunk.text
    assert (shrunk.json()["capacity"], shrunk.json()["moved"], shrunk.json()["cancelled"]) == (
        2, [], [])  # fmt: skip
    assert [r.id for r in await outbox_rows(db)] == before[2]
    # A party seated at a table stays when the table stops taking bookings
    seated, _ = await seated_at_its_start(client, app, staff, make_user, 4)
    retired = await edit(client, admin, 4, {"bookable": False}, cancel=False)
    assert retired.status_code == 200, retired.text
    mine = (await client.get(f"/bookings/{seated['id']}", headers=staff)).json()
    assert (mine["status"], mine["table_id"]) == ("seated", 4)


async def test_two_tables_retired_at_once_never_share_the_last_free_table(
    client: AsyncClient, db: TestDatabase, admin: Headers, make_user: UserFactory
) -> None:
    spare = await client.post(
        "/api/tables", json={"table_number": 21, "capacity": 10}, headers=admin
    )
    assert spare.status_code == 201, spare.text
    day = next_weekday(FRIDAY)
    bookings = []
    for table in (19, 20):
        _, headers = await make_user(Role.customer)
        bookings.append(await booked(client, headers, day, "19:00", 10, table_id=table))

    first, second = await asyncio.gather(
        edit(client, admin, 19, {"bookable": False}, cancel=True),
        edit(client, admin, 20, {"bookable": False}, cancel=True),
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    moved = first.json()["moved"] + second.json()["moved"]
    cancelled = first.json()["cancelled"] + second.json()["cancelled"]
    assert len(moved) == 1 and len(cancelled) == 1
    assert moved[0]["table_number"] == 21
    assert {moved[0]["id"], cancelled[0]["id"]} == {b["id"] for b in bookings}
    assert await overlapping(db, spare.json()["id"], bookings[0]["starts_at"]) == [moved[0]["id"]]
    notices = [r.booking_id for r in await outbox_rows(db) if r.kind.value == "booking_cancelled"]
    assert notices == [cancelled[0]["id"]]


async def test_a_move_never_lands_on_a_table_a_party_is_sitting_at(
    client: AsyncClient, app: FastAPI, db: TestDatabase, admin: Headers, staff: Headers,
    make_user: UserFactory,
) -> None:  # fmt: skip
    day = next_weekday(FRIDAY)
    _, headers = await make_user(Role.customer)
    booking = await booked(client, headers, day, "19:00", 4, table_id=5)
    app.state.clock = lambda: datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=1)
    await seat_walk_in(client, staff, 3, guests=4)  # the best fit, busy until about 20:00
    done = await edit(client, admin, 5, {"bookable": False}, cancel=True)
    assert done.status_code == 200, done.text
    assert [(m["id"], m["table_number"]) for m in done.json()["moved"]] == [(booking["id"], 4)]
