"""Never two bookings on one table at once: requests racing for the same tables, and the
database's own constraint beneath the application's check (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, Json, book, booking_body, next_weekday


async def _fire(client: AsyncClient, headers_list: list[Headers], body: Json) -> list[int]:
    responses = await asyncio.gather(
        *(client.post("/bookings", json=body, headers=h) for h in headers_list)
    )
    return [r.status_code for r in responses]


async def test_fifty_concurrent_requests_for_one_table_one_wins(
    client: AsyncClient, make_user: UserFactory
) -> None:
    users = [await make_user(Role.customer) for _ in range(10)]
    headers = [users[i % 10][1] for i in range(50)]
    day = next_weekday(FRIDAY)
    body = booking_body(day, "19:00", 4, table_id=5)
    statuses = await _fire(client, headers, body)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses


async def test_concurrent_auto_assignment_fills_exactly_the_fitting_tables(
    client: AsyncClient, make_user: UserFactory, staff: Headers
) -> None:
    users = [await make_user(Role.customer) for _ in range(10)]
    headers = [users[i % 10][1] for i in range(50)]
    day = next_weekday(FRIDAY)
    # A party of 9 fits tables 19 (10 seats) and 20 (12 seats): k = 2.
    body = booking_body(day, "19:00", 9)
    statuses = await _fire(client, headers, body)
    assert statuses.count(201) == 2, statuses
    assert statuses.count(409) == 48, statuses
    booked = (await client.get("/bookings", headers=staff)).json()["items"]
    assert sorted(b["table_number"] for b in booked) == [19, 20]


@pytest.mark.postgres_only
async def test_exclusion_constraint_rejects_overlap_written_around_the_app(
    db: TestDatabase, make_user: UserFactory
) -> None:
    user, _ = await make_user(Role.customer)
    insert = text(
        "INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, status, "
        "created_at, updated_at) VALUES (:u, 1, 2, :s, :e, :st, now(), now())"
    )
    start = datetime(2030, 1, 4, 19, tzinfo=UTC)
    async with db.database.engine.begin() as conn:
        await conn.execute(
            insert, {"u": user.id, "s": start, "e": start + timedelta(hours=2), "st": "confirmed"}
        )
        # A cancelled booking does not hold the table.
        await conn.execute(
            insert, {"u": user.id, "s": start, "e": start + timedelta(hours=2), "st": "cancelled"}
        )
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        async with db.database.engine.begin() as conn:
            await conn.execute(
                insert,
                {
                    "u": user.id,
                    "s": start + timedelta(minutes=119),
                    "e": start + timedelta(hours=3),
                    "st": "seated",
                },
            )
    async with db.database.engine.begin() as conn:  # back-to-back is fine
        await conn.execute(
            insert,
            {
                "u": user.id,
                "s": start + timedelta(hours=2),
                "e": start + timedelta(hours=4),
                "st": "confirmed",
            },
        )


@pytest.mark.postgres_only
async def test_constraint_violation_is_409_not_500(
    client: AsyncClient,
    db: TestDatabase,
    guest: Headers,
    staff: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the application's check were skipped, the database still refuses, and the client
    gets a 409. (The insert here checks nothing, to reach the constraint.)"""
    from sqlalchemy import insert

    from app.bookings import service
    from app.bookings.models import Booking
    from app.db.statements import Conn, Query

    async def unchecked_insert(conn: Conn, *, now: datetime, **fields: Any) -> int:
        statement = (
            insert(Booking)
            .values(**fields, status="confirmed", created_at=now, updated_at=now)
            .returning(Booking.id)
        )
        return int(await conn.fetchval(Query(statement)))

    monkeypatch.setattr(service.sql, "insert_if_free", unchecked_insert)
    day = next_weekday(FRIDAY)
    assert (await book(client, staff, day, "19:00", 4, table_id=5)).status_code == 201
    clash = await book(client, guest, day, "20:00", 4, table_id=5)  # another guest
    assert clash.status_code == 409, clash.text
    assert clash.json()["detail"] == "That table is already booked at that time"
    async with db.database.reader() as session:
        count = await session.scalar(text("SELECT count(*) FROM bookings"))
    assert count == 1
