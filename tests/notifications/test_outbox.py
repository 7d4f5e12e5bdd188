"""Booking e-mails written to the outbox in the booking's own transaction (app/notifications/
outbox.py), rendered when they are sent, and delivered to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.auth.models import Role
from app.bookings.models import Booking
from app.config import Settings
from app.db.statements import Conn, CoreConn, NativeConn
from app.notifications import outbox
from app.notifications.models import MessageStatus
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, book, booked, configure, next_weekday
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, outbox_rows, plain_text


async def test_booking_sends_exactly_one_confirmation(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    guest, headers = await make_user(Role.customer, email="ada@example.com")
    day = next_weekday(FRIDAY)
    booking = await booked(client, headers, day, "19:00", 4, special_requests="Birthday")
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1
    assert await sender.run_once() == 0
    assert len(smtp.inbox.messages) == 1
    message = smtp.inbox.messages[0]
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Test Bistro <book@test.example>"
    assert smtp.inbox.subjects()[0].startswith("Booking confirmed")
    text = plain_text(message)
    html = plain_text(message, "html")
    for fragment in (
        "19:00",
        "4 guests",
        f"#{booking['id']}",
        "Europe/London",
        "cancel",
        f"Table:     {booking['table_number']}",
        "Birthday",
        str(day.day),
    ):
        assert fragment in text, fragment
    assert "<table" in html and f"#{booking['id']}" in html
    rows = await outbox_rows(db)
    # the reminder is queued when it falls due, not with the booking
    assert [(r.kind.value, r.status.value) for r in rows] == [("booking_confirmed", "sent")]
    assert guest.email == "ada@example.com"


async def test_confirmation_is_written_when_sent_and_kept(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    admin: Headers,
    guest: Headers,
) -> None:
    """Confirmations are queued without their text, rendered by the dispatcher from the
    booking as it is then, and the text is kept on the row."""
    day = next_weekday(FRIDAY, at_least_days=3)
    booking = await booked(client, guest, day, "19:00", 2)
    queued = (await client.get("/admin/outbox", headers=admin)).json()["items"]
    assert [(m["kind"], m["subject"]) for m in queued] == [("booking_confirmed", None)]
    await configure(client, admin, name="Chez Test")  # renamed before it goes out
    assert await dispatcher(db, settings, clock).run_once() == 1
    text = plain_text(smtp.inbox.messages[0])
    assert "Hello Test customer" in text and "Chez Test" in text and f"#{booking['id']}" in text
    rows = {r.kind.value: r for r in await outbox_rows(db)}
    sent = rows["booking_confirmed"]
    assert sent.subject == smtp.inbox.subjects()[0]
    assert sent.body_text == text.replace("\r\n", "\n")


async def test_a_message_whose_booking_is_gone_is_cancelled_not_sent(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
) -> None:
    await book(client, guest, next_weekday(FRIDAY, at_least_days=3), "19:00", 2)
    async with db.database.engine.begin() as conn:  # deleted around the app
        await conn.execute(text("DELETE FROM bookings"))
    assert await dispatcher(db, settings, clock).run_once() == 0
    assert smtp.inbox.messages == []
    confirmation = next(r for r in await outbox_rows(db) if r.kind.value == "booking_confirmed")
    assert confirmation.status == MessageStatus.cancelled
    assert confirmation.last_error == "booking no longer exists"


async def test_a_message_that_cannot_be_written_is_failed_and_the_rest_go_out(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = next_weekday(FRIDAY)
    broken = (await booked(client, guest, day, "17:00", 2))["id"]
    fine = (await booked(client, guest, day, "20:00", 2))["id"]
    real_render = outbox.render

    def render(kind: Any, context: dict[str, Any]) -> tuple[str, str, str]:
        if context["booking_id"] == broken:
            raise ValueError("template trouble")
        return real_render(kind, context)

    monkeypatch.setattr(outbox, "render", render)
    assert await dispatcher(db, settings, clock).run_once() == 1
    assert len(smtp.inbox.messages) == 1
    rows = {(r.booking_id, r.kind.value): r for r in await outbox_rows(db)}
    failed = rows[(broken, "booking_confirmed")]
    assert failed.status == MessageStatus.failed
    assert failed.last_error == "could not be written: ValueError: template trouble"
    assert rows[(fine, "booking_confirmed")].status == MessageStatus.sent


async def test_cancellation_sends_one_notice_and_no_reminder(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    sender = dispatcher(db, settings, clock)
    await sender.run_once()
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    await sender.run_once()
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=1)
    await sender.run_once()
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == [
        "Booking confirmed", "Booking cancelled"]  # fmt: skip
    assert "by the restaurant" not in plain_text(smtp.inbox.messages[1])
    statuses = {r.kind.value: r.status.value for r in await outbox_rows(db)}
    assert statuses == {"booking_confirmed": "sent", "booking_cancelled": "sent"}


async def test_restaurant_cancellation_says_so(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
    staff: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
    assert (await client.delete(f"/bookings/{booking['id']}", headers=staff)).status_code == 204
    await dispatcher(db, settings, clock).run_once()
    cancelled = smtp.inbox.messages[-1]
    assert smtp.inbox.subjects()[-1].startswith("Booking cancelled")
    body = plain_text(cancelled)
    assert "by the restaurant" in body


async def test_rolled_back_or_refused_booking_sends_nothing(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
) -> None:

    async def refuse(_conn: Conn) -> None:
        raise RuntimeError("commit refused by test")

    day = next_weekday(FRIDAY)
    with pytest.MonkeyPatch.context() as patch:  # the booking's transaction fails to commit
        patch.setattr(CoreConn, "commit", refuse)
        patch.setattr(NativeConn, "commit", refuse)
        # (with an Idempotency-Key, PostgreSQL books in a transaction too, not book_table)
        failed = await book(client, {**guest, "Idempotency-Key": "k1"}, day, "19:00", 2)
    assert failed.status_code == 500
    if db.backend == "postgres":  # book_table's last insert fails: the booking goes too
        async with refusing_outbox_inserts(db):
            failed = await book(client, guest, day, "19:00", 2)
        assert failed.status_code == 500
    assert (await book(client, guest, next_weekday(FRIDAY), "19:00", 13)).status_code == 422
    assert await outbox_rows(db) == []
    async with db.database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0
    assert await dispatcher(db, settings, clock).run_once() == 0
    assert smtp.inbox.messages == []


@asynccontextmanager
async def refusing_outbox_inserts(db: TestDatabase) -> AsyncIterator[None]:
    """PostgreSQL: every insert into the outbox fails while this is open."""
    async with db.database.engine.begin() as conn:
        await conn.execute(text(
            "CREATE FUNCTION refuse_by_test() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$"
        ))  # fmt: skip
        await conn.execute(text(
            "CREATE TRIGGER refuse_by_test BEFORE INSERT ON outbox_messages "
            "FOR EACH ROW EXECUTE FUNCTION refuse_by_test()"
        ))  # fmt: skip
    try:
        yield
    finally:
        async with db.database.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse_by_test ON outbox_messages"))
            await conn.execute(text("DROP FUNCTION refuse_by_test()"))
