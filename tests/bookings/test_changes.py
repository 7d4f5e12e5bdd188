"""Changing a booking (PATCH /bookings/{id}): a new booking's rules, the same id, the
table kept when it can be, one e-mail, and never two bookings on one table at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import insert, select

from app.auth.models import Role
from app.bookings.cache import DayCache
from app.bookings.models import Booking, BookingStatus
from app.db.engine import Database
from app.main import create_app
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import (
    FRIDAY,
    LONDON,
    Headers,
    Json,
    availability,
    book,
    booked,
    configure,
    next_weekday,
    seat_walk_in,
)


async def change(
    client: AsyncClient, headers: Headers, booking_id: int, **body: object
) -> Response:
    return await client.patch(f"/bookings/{booking_id}", json=body, headers=headers)


async def mails(db: TestDatabase, booking_id: int, kind: MessageKind) -> list[str]:
    """The recipients of the booking's outbox messages of `kind`."""
    async with db.database.reader() as session:
        found = await session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.booking_id == booking_id, OutboxMessage.kind == kind
            )
        )
        return list(found)


async def active_on_table(db: TestDatabase, table_id: int) -> list[tuple[datetime, datetime]]:
    async with db.database.reader() as session:
        rows = await session.execute(
            select(Booking.starts_at, Booking.ends_at)
            .where(Booking.table_id == table_id, Booking.status == BookingStatus.confirmed)
            .order_by(Booking.starts_at)
        )
        return [(s, e) for s, e in rows]


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


async def test_a_new_time_keeps_the_id_and_the_table_and_sends_one_email(
    client: AsyncClient, make_user: UserFactory, db: TestDatabase
) -> None:
    user, guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2)
    answer = await change(client, guest, made["id"], time="20:30")
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["id"], moved["table_id"], moved["time"]) == (
        made["id"],
        made["table_id"],
        "20:30",
    )
    assert datetime.fromisoformat(moved["starts_at"]) == at_local(day, 20, 30)
    assert (await client.get(f"/bookings/{made['id']}", headers=guest)).json() == moved
    assert await mails(db, made["id"], MessageKind.booking_changed) == [user.email]


async def test_the_same_values_change_nothing_and_send_nothing(
    client: AsyncClient, guest: Headers, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2, special_requests="window")
    same = {"date": day.isoformat(), "time": "19:00", "party_size": 2,
            "table_id": made["table_id"], "special_requests": "window"}  # fmt: skip
    for body in ({}, same):
        answer = await client.patch(f"/bookings/{made['id']}", json=body, headers=guest)
        assert answer.status_code == 200, answer.text
        assert answer.json() == made
    assert await mails(db, made["id"], MessageKind.booking_changed) == []


async def test_special_requests_alone_keep_the_table_and_null_clears_them(
    client: AsyncClient, guest: Headers, db: TestDatabase
) -> None:
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    answer = await change(client, guest, made["id"], special_requests="a high chair")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {**made, "special_requests": "a high chair"}
    cleared = await change(client, guest, made["id"], special_requests=None)
    assert cleared.json()["special_requests"] is None
    assert len(await mails(db, made["id"], MessageKind.booking_changed)) == 2


async def test_a_bigger_party_moves_to_the_best_fitting_free_table(
    client: AsyncClient, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2)
    assert made["table_number"] == 1  # two seats
    answer = await change(client, guest, made["id"], party_size=5)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    # Six seats: tables 6, 11 and 12; a party of five dines for 150 minutes.
    assert (moved["id"], moved["table_number"], moved["party_size"]) == (made["id"], 6, 5)
    assert datetime.fromisoformat(moved["ends_at"]) == at_local(day, 21, 30)


async def test_a_new_time_where_the_table_is_taken_moves_to_the_next_best_table(
    client: AsyncClient, guest: Headers, make_user: UserFactory
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2)
    _, other = await make_user(Role.customer)
    await booked(client, other, day, "21:00", 2, table_id=made["table_id"])
    # 20:30 to 22:00 overlaps the other booking on table 1: table 2 is the next best fit.
    answer = await change(client, guest, made["id"], time="20:30")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["id"], answer.json()["table_number"]) == (made["id"], 2)


async def test_a_new_time_overlapping_its_own_old_time_keeps_its_table(
    client: AsyncClient, guest: Headers, db: TestDatabase
) -> None:
    """The booking does not stand in its own way (the exclusion constraint agrees)."""
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    answer = await change(client, guest, made["id"], time="19:30")
    assert answer.status_code == 200, answer.text
    assert answer.json()["table_id"] == made["table_id"]
    assert len(await active_on_table(db, made["table_id"])) == 1


async def test_the_rules_of_a_new_booking_apply_and_a_refusal_changes_nothing(
    client: AsyncClient, guest: Headers, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2)
    far = day + timedelta(days=120)
    refused: dict[str, Json] = {
        "outside opening hours": {"time": "10:00"},
        "past the last seating": {"time": "22:45"},
        "grid": {"time": "19:07"},
        "90 days": {"date": far.isoformat()},
        "in the past": {"date": (day - timedelta(days=14)).isoformat()},
        "12": {"party_size": 13},
    }
    for words, body in refused.items():
        answer = await change(client, guest, made["id"], **body)
        assert answer.status_code == 422, (body, answer.text)
        assert words in answer.json()["detail"], (words, answer.text)
    malformed: list[Json] = [{"time": "19:00+01:00"}, {"party_size": 0}, {"party_size": "4"},
                 {"table_id": 0}, {"guests": 3}, {"special_requests": "x" * 501}]  # fmt: skip
    for body in malformed:
        answer = await client.patch(f"/bookings/{made['id']}", json=body, headers=guest)
        assert answer.status_code == 422, (body, answer.text)
    unfit: list[tuple[Json, str]] = [
        ({"table_id": 999}, "does not exist"),
        ({"table_id": 1, "party_size": 3}, "seats 2"),
    ]
    for body, words in unfit:
        answer = await client.patch(f"/bookings/{made['id']}", json=body, headers=guest)
        assert answer.status_code == 422 and words in answer.json()["detail"], answer.text
    assert (await client.get(f"/bookings/{made['id']}", headers=guest)).json() == made
    assert await mails(db, made["id"], MessageKind.booking_changed) == []


async def test_a_taken_slot_is_409_with_alternatives_and_nothing_changes(
    client: AsyncClient, guest: Headers, make_user: UserFactory, db: TestDatabase,
    staff: Headers,
) -> None:  # fmt: skip
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "13:00", 2, special_requests="quiet")
    other = staff  # other guests' bookings (staff hold any number)
    await booked(client, other, day, "19:00", 2, table_id=5)
    taken = await change(client, guest, made["id"], time="19:00", table_id=5,
                         special_requests="loud")  # fmt: skip
    assert taken.status_code == 409, taken.text
    assert "Table 5 is already booked" in taken.json()["detail"]
    assert taken.json()["alternatives"]
    # No table for nine: both that fit (19 and 20) are booked at 19:00.
    for table in (19, 20):
        await booked(client, other, day, "19:00", 9, table_id=table)
    none = await change(client, guest, made["id"], time="19:00", party_size=9)
    assert none.status_code == 409, none.text
    assert "No table for 9" in none.json()["detail"]
    # 150 minutes before 19:00, and the booking's own 13:00 counts as free.
    assert none.json()["alternatives"][:3] == ["16:00", "16:15", "16:30"]
    assert (await client.get(f"/bookings/{made['id']}", headers=guest)).json() == made
    assert await mails(db, made["id"], MessageKind.booking_changed) == []


async def test_a_customer_changes_only_their_own_booking_and_staff_any(
    client: AsyncClient, make_user: UserFactory, staff: Headers, db: TestDatabase
) -> None:
    owner, mine = await make_user(Role.customer)
    _, theirs = await make_user(Role.customer)
    made = await booked(client, mine, next_weekday(FRIDAY), "19:00", 2)
    answer = await change(client, theirs, made["id"], time="20:00")
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"detail": "Booking not found"}
    assert (await change(client, theirs, 2_000_000, time="20:00")).status_code == 404
    assert (await client.patch(f"/bookings/{made['id']}", json={})).status_code == 401
    by_staff = await change(client, staff, made["id"], time="20:00")
    assert by_staff.status_code == 200, by_staff.text
    assert by_staff.json()["user_id"] == owner.id
    # The guest is told, not the staff member.
    assert await mails(db, made["id"], MessageKind.booking_changed) == [owner.email]


async def test_inside_the_cutoff_a_customer_is_refused_and_staff_may_change(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers, admin: Headers
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "19:00", 2)
    await configure(client, admin, cancel_cutoff_minutes=120)
    app.state.clock = lambda: at_local(day, 18)
    refused = await change(client, guest, made["id"], time="21:00")
    assert refused.status_code == 409, refused.text
    assert "120 minutes" in refused.json()["detail"]
    assert "alternatives" not in refused.json()
    allowed = await change(client, staff, made["id"], time="21:00")
    assert allowed.status_code == 200 and allowed.json()["time"] == "21:00", allowed.text


async def test_the_lead_time_binds_customers_not_staff(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers
) -> None:
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "21:00", 2)
    app.state.clock = lambda: at_local(day, 18, 50)
    soon = await change(client, guest, made["id"], time="19:00")
    assert soon.status_code == 422 and "30 minutes ahead" in soon.json()["detail"], soon.text
    by_staff = await change(client, staff, made["id"], time="19:00")
    assert by_staff.status_code == 200, by_staff.text


async def test_a_party_seated_now_keeps_its_table_from_a_change_to_tonight(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers
) -> None:
    """A walk-in at table 1 since 18:00 stays until 19:30: a change to 18:30 gets table 2."""
    day = next_weekday(FRIDAY)
    made = await booked(client, guest, day, "21:00", 2)
    assert made["table_number"] == 1
    app.state.clock = lambda: at_local(day, 18)
    await seat_walk_in(client, staff, 1)
    answer = await change(client, guest, made["id"], time="18:30")
    assert answer.status_code == 200, answer.text
    assert answer.json()["table_number"] == 2


async def test_only_a_confirmed_booking_that_has_not_started_can_be_changed(
    client: AsyncClient, app: FastAPI, guest: Headers, staff: Headers
) -> None:
    day = next_weekday(FRIDAY)
    cancelled = await booked(client, guest, day, "19:00", 2)
    assert (await client.delete(f"/bookings/{cancelled['id']}", headers=guest)).status_code == 204
    answer = await change(client, staff, cancelled["id"], time="20:00")
    assert answer.status_code == 409 and "cancelled" in answer.json()["detail"], answer.text
    started = await booked(client, guest, day, "13:00", 2)
    app.state.clock = lambda: at_local(day, 13, 5)
    answer = await change(client, staff, started["id"], time="20:00")
    assert answer.status_code == 409 and "already started" in answer.json()["detail"]


async def test_a_new_time_withdraws_the_reminder_waiting_for_the_old_one(
    client: AsyncClient, guest: Headers, db: TestDatabase
) -> None:
    """The dispatcher queues the reminder again when the new time's falls due."""
    made = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    async with db.database.writer() as session, session.begin():
        await session.execute(insert(OutboxMessage).values(
            kind=MessageKind.booking_reminder, booking_id=made["id"], recipient="a@example.com",
            status=MessageStatus.pending, attempts=0, next_attempt_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        ))  # fmt: skip
    await change(client, guest, made["id"], special_requests="cake")
    assert len(await mails(db, made["id"], MessageKind.booking_reminder)) == 1
    await change(client, guest, made["id"], time="20:00")
    assert await mails(db, made["id"], MessageKind.booking_reminder) == []


async def _bookings_for(
    client: AsyncClient, make_user: UserFactory, day: date, tables: list[int]
) -> list[tuple[Headers, Json]]:
    out = []
    for table in tables:
        _, headers = await make_user(Role.customer)
        out.append((headers, await booked(client, headers, day, "13:00", 4, table_id=table)))
    return out


async def test_changes_racing_into_one_slot_exactly_one_wins(
    client: AsyncClient, make_user: UserFactory, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY)
    made = await _bookings_for(client, make_user, day, [3, 4, 7, 8, 13, 18])
    answers = await asyncio.gather(
        *(change(client, h, b["id"], time="19:00", table_id=5) for h, b in made)
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1 and statuses.count(409) == 5, statuses
    on_five = await active_on_table(db, 5)
    assert on_five == [(at_local(day, 19), at_local(day, 21))]
    for (headers, booking), answer in zip(made, answers, strict=True):
        if answer.status_code == 409:  # the losers are where they were
            now = (await client.get(f"/bookings/{booking['id']}", headers=headers)).json()
            assert now == booking
            assert answer.json()["alternatives"]


async def test_changes_racing_for_the_best_fit_fill_exactly_the_fitting_tables(
    client: AsyncClient, make_user: UserFactory, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY)
    made = await _bookings_for(client, make_user, day, [3, 4, 7, 8, 13, 18])
    answers = await asyncio.gather(
        *(change(client, h, b["id"], time="19:00", party_size=9) for h, b in made)
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 2 and statuses.count(409) == 4, statuses
    assert sorted(a.json()["table_number"] for a in answers if a.status_code == 200) == [19, 20]
    for table in (19, 20):
        assert len(await active_on_table(db, table)) == 1


async def test_a_change_racing_new_bookings_for_one_slot_exactly_one_wins(
    client: AsyncClient, make_user: UserFactory, db: TestDatabase
) -> None:
    day = next_weekday(FRIDAY)
    for _round in range(3):
        [(headers, booking)] = await _bookings_for(client, make_user, day, [3])
        others = [(await make_user(Role.customer))[1] for _ in range(4)]
        answers = await asyncio.gather(
            change(client, headers, booking["id"], time="19:00", table_id=5),
            *(book(client, h, day, "19:00", 4, table_id=5) for h in others),
        )
        statuses = [a.status_code for a in answers]
        assert statuses.count(409) == 4, statuses
        assert set(statuses) - {409} <= {200, 201}, statuses
        assert len(await active_on_table(db, 5)) == 1
        async with db.database.writer() as session, session.begin():  # the next round
            for found in await session.scalars(select(Booking)):
                found.status = BookingStatus.cancelled


async def free_ids(client: AsyncClient, day: date, at: str, party: int) -> list[int]:
    response = await availability(client, day, party, at)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["available_tables"]]


@pytest.fixture
async def other_worker(db: TestDatabase) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """A second app on the same database, as a second server process: its own cache."""
    database = Database.from_url(db.url, pool_size=4, max_overflow=0)
    app = create_app(make_settings(db.url), database=database)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=recording(app), client=("127.0.0.1", 50003))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield app, c
    finally:
        await database.dispose()


async def eventually_free(
    worker: AsyncClient, day: date, table: int, *, at: str, taken_at: str
) -> None:
    """Wait (5 s at most) until `worker` offers `table` at `at` and not at `taken_at`: a
    change made through another process reaches its cache with that change's NOTIFY."""
    deadline = asyncio.get_running_loop().time() + 5
    while table not in await free_ids(worker, day, at, 2) or table in await free_ids(
        worker, day, taken_at, 2
    ):
        assert asyncio.get_running_loop().time() < deadline, "the process kept an old day"
        await asyncio.sleep(0.05)


@pytest.mark.postgres_only
async def test_availability_learns_of_a_change_in_every_process(
    client: AsyncClient, other_worker: tuple[FastAPI, AsyncClient], guest: Headers
) -> None:
    """PostgreSQL keeps days ahead in memory per process: the process that changed the
    booking sees it at once, another once the change's NOTIFY arrives."""
    other_app, other = other_worker
    day = next_weekday(FRIDAY, at_least_days=2)
    made = await booked(client, guest, day, "19:00", 2)
    table = made["table_id"]
    assert table not in await free_ids(client, day, "19:00", 2)
    await eventually_free(other, day, table, at="21:00", taken_at="19:00")
    kept: DayCache = other_app.state.day_cache
    hits = kept.hits
    assert (await change(client, guest, made["id"], time="21:00")).status_code == 200
    assert table in await free_ids(client, day, "19:00", 2)  # at once
    assert table not in await free_ids(client, day, "21:00", 2)
    await eventually_free(other, day, table, at="19:00", taken_at="21:00")
    assert kept.hits > hits  # the other process answered from memory
