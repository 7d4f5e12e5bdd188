"""POST /bookings has two paths on PostgreSQL: one statement (book_table, migration 0009)
for a booking 12 hours or more ahead, and the transactional path for everything else and
whenever the statement does not simply succeed. They must give the same answers and
never both win one table."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text

from app.auth.models import Role
from app.bookings import service
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, book, booking_body, next_weekday


def no_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the transactional path ran")

    monkeypatch.setattr(service, "create_booking_idempotent", refuse)


def no_single_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    async def decline(*_args: Any, **_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(service, "book_at_once", decline)


@pytest.mark.postgres_only
async def test_a_booking_ahead_is_written_in_one_statement_with_its_emails(
    client: AsyncClient,
    db: TestDatabase,
    make_user: UserFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, guest = await make_user(Role.customer)
    no_full_path(monkeypatch)
    day = next_weekday(FRIDAY, at_least_days=3)
    made = await book(client, guest, day, "19:00", 4, special_requests="Window, please")
    assert made.status_code == 201, made.text
    booking = made.json()
    async with db.database.reader() as session:
        best_fit = await session.scalar(text(
            "SELECT table_number FROM tables WHERE bookable AND capacity >= 4 "
            "ORDER BY capacity, table_number LIMIT 1"
        ))  # fmt: skip
    assert booking["user_id"] == user.id and booking["table_number"] == best_fit
    assert booking["special_requests"] == "Window, please"
    assert booking["status"] == "confirmed"
    starts = datetime.fromisoformat(booking["starts_at"])
    assert datetime.fromisoformat(booking["ends_at"]) - starts == timedelta(minutes=120)
    async with db.database.reader() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.kind, r.status, r.booking_id, r.recipient) for r in rows] == [
        (MessageKind.booking_confirmed, MessageStatus.pending, booking["id"], user.email),
    ]  # the reminder is queued when it falls due
    assert rows[0].subject is None  # rendered when sent
    listed = await client.get(f"/bookings/{booking['id']}", headers=guest)
    assert listed.json() == booking


async def _scenario(client: AsyncClient, guests: list[Headers]) -> list[tuple[int, Any]]:
    """A run of bookings that meets each outcome: best fit, a chosen table, a taken one,
    one too small, one that does not exist, a full slot, a rule broken; each by another
    guest (one guest's bookings may not overlap)."""
    day = next_weekday(FRIDAY, at_least_days=3)
    attempts: list[tuple[str, int, dict[str, Any]]] = [
        ("19:00", 2, {}), ("19:00", 4, {}), ("19:00", 9, {}), ("19:00", 12, {}),
        ("19:00", 11, {}), ("19:00", 4, {"table_id": 7}), ("20:00", 4, {"table_id": 7}),
        ("13:00", 4, {"table_id": 1}), ("13:00", 2, {"table_id": 999}), ("19:07", 2, {}),
        ("21:00", 4, {"table_id": 7}),
    ]  # fmt: skip
    out = []
    for (at, party, extra), guest in zip(attempts, guests, strict=True):
        response = await book(client, guest, day, at, party, **extra)
        body = response.json()
        if response.status_code == 201:
            body = (body["table_number"], body["party_size"], body["starts_at"])
        out.append((response.status_code, body))
    return out


@pytest.mark.postgres_only
async def test_both_paths_give_the_same_answers(
    client: AsyncClient,
    db: TestDatabase,
    make_user: UserFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emails = [f"same{n}@example.com" for n in range(11)]
    guests = [(await make_user(Role.customer, email=email))[1] for email in emails]
    one_statement = await _scenario(client, guests)
    await db.reset()
    guests = [(await make_user(Role.customer, email=email))[1] for email in emails]
    no_single_statement(monkeypatch)
    transactional = await _scenario(client, guests)
    assert one_statement == transactional
    statuses = [status for status, _ in one_statement]
    assert statuses == [201, 201, 201, 201, 409, 201, 409, 422, 422, 422, 201]
    assert one_statement[4][1]["alternatives"]  # the full slot offers other times


async def test_an_inactive_account_cannot_book_on_either_path(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    _, guest = await make_user(Role.customer, active=False)
    day = next_weekday(FRIDAY, at_least_days=3)
    # Without a key PostgreSQL tries one statement first; with one, only the transaction.
    for headers in (guest, {**guest, "Idempotency-Key": "inactive"}):
        refused = await book(client, headers, day, "19:00", 2)
        assert refused.status_code == 401
        assert refused.json()["detail"] == "User is inactive or no longer exists"
    async with db.database.reader() as session:
        assert await session.scalar(text("SELECT count(*) FROM bookings")) == 0
        assert await session.scalar(text("SELECT count(*) FROM outbox_messages")) == 0


async def test_concurrent_requests_on_both_paths_never_share_a_table(
    client: AsyncClient, make_user: UserFactory
) -> None:
    """Half the requests carry an Idempotency-Key (the transactional path), half do not
    (one statement on PostgreSQL): 40 at once for one table, one wins."""
    users = [await make_user(Role.customer) for _ in range(8)]
    day = next_weekday(FRIDAY, at_least_days=3)
    body = booking_body(day, "19:00", 4, table_id=5)
    requests = []
    for i in range(40):
        headers = dict(users[i % 8][1])
        if i % 2:
            headers["Idempotency-Key"] = f"race-{i}"
        requests.append(client.post("/bookings", json=body, headers=headers))
    statuses = [r.status_code for r in await asyncio.gather(*requests)]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 39, statuses


@pytest.mark.postgres_only
async def test_the_statement_passes_taken_tables_over_unlocked_and_books_the_next_free(
    client: AsyncClient,
    db: TestDatabase,
    make_user: UserFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """book_table walks the fitting tables best fit first (migration 0011): the taken
    ones are passed over without their lock; only the table it books is locked."""
    user, _ = await make_user(Role.customer)
    no_full_path(monkeypatch)
    day = next_weekday(FRIDAY, at_least_days=3)
    async with db.database.reader() as session:
        order = list(await session.scalars(text(
            "SELECT id FROM tables WHERE bookable AND capacity >= 2 "
            "ORDER BY capacity, table_number"
        )))  # fmt: skip
    for table_id in order[:3]:  # each by another guest
        _, guest = await make_user(Role.customer)
        taken = await book(client, guest, day, "19:00", 2, table_id=table_id)
        assert taken.status_code == 201, taken.text
    starts = datetime.fromisoformat(taken.json()["starts_at"])
    assert db.database.write_engine is not None
    async with db.database.write_engine.connect() as conn, conn.begin():  # one transaction
        booked = (await conn.execute(text(
            "SELECT new_table FROM book_table(:u, 2, :s, :e, :earliest, :d, NULL, NULL, "
            "now(), 4)"
        ), {"u": user.id, "s": starts, "e": starts + timedelta(hours=2),
            "earliest": starts - timedelta(hours=12), "d": day})).scalar_one()  # fmt: skip
        held = await conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND classid = 1003"  # table-and-day locks
        ))  # fmt: skip
    assert booked == order[3]
    assert held == 1
