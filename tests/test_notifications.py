"""Booking e-mails through the outbox, delivered to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role
from app.bookings.models import Booking
from app.config import Settings
from app.db.statements import Conn, CoreConn, NativeConn, Query
from app.main import create_app
from app.notifications import outbox
from app.notifications.dispatcher import OutboxDispatcher, due_messages
from app.notifications.mailer import SmtpMailer
from app.notifications.models import MessageStatus, OutboxMessage
from app.notifications.pacing import CpuPacer
from tests.booking_helpers import ALL_DAY, book, configure, next_weekday
from tests.conftest import TEST_SECRET, TestDatabase, UserFactory, make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.greetings = 0  # EHLOs: one per SMTP session

    async def handle_EHLO(
        self, _server: Any, session: Any, _envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.greetings += 1
        return responses

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [" ".join(str(m["Subject"]).split()) for m in self.messages]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings_overrides(smtp: SmtpServer) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_timeout_seconds": 3,
        "outbox_backoff_seconds": 60,
        "outbox_max_attempts": 3,
        "mail_from": "Test Bistro <book@test.example>",
    }


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: Any) -> Clock:
    clock = Clock()
    app.state.clock = clock
    return clock


def dispatcher(db: TestDatabase, settings: Settings, clock: Clock, **kw: Any) -> OutboxDispatcher:
    return OutboxDispatcher(db.database, settings, clock=clock, **kw)


async def outbox_rows(db: TestDatabase) -> list[OutboxMessage]:
    async with db.database.reader() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def confirmations(db: TestDatabase) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(db) if r.kind.value == "booking_confirmed"]


async def book_times(client: httpx.AsyncClient, make_user: UserFactory, *times: str) -> None:
    """A new guest books a table for two at each of `times` next Friday."""
    _, headers = await make_user(Role.customer)
    day = next_weekday(4)
    for at in times:
        assert (await book(client, headers, day, at, 2)).status_code == 201


async def test_booking_sends_exactly_one_confirmation(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    guest, headers = await make_user(Role.customer, email="ada@example.com")
    day = next_weekday(4)
    booking = (await book(client, headers, day, "19:00", 4, special_requests="Birthday")).json()
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1
    assert await sender.run_once() == 0
    assert len(smtp.inbox.messages) == 1
    message = smtp.inbox.messages[0]
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Test Bistro <book@test.example>"
    assert smtp.inbox.subjects()[0].startswith("Booking confirmed")
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    for fragment in (
        "19:00",
        "4 guests",
        f"#{booking['id']}",
        "Europe/London",
        "cancel",
        f"Table:   {booking['table_number']}",
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
    make_user: UserFactory,
) -> None:
    """Confirmations are queued without their text, rendered by the dispatcher from the
    booking as it is then, and the text is kept on the row."""
    _, admin = await make_user(Role.admin)
    _, guest = await make_user(Role.customer)
    day = next_weekday(4, at_least_days=3)
    booking = (await book(client, guest, day, "19:00", 2)).json()
    queued = (await client.get("/admin/outbox", headers=admin)).json()["items"]
    assert [(m["kind"], m["subject"]) for m in queued] == [("booking_confirmed", None)]
    await configure(client, admin, name="Chez Test")  # renamed before it goes out
    assert await dispatcher(db, settings, clock).run_once() == 1
    text = smtp.inbox.messages[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
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
    make_user: UserFactory,
) -> None:
    _, guest = await make_user(Role.customer)
    await book(client, guest, next_weekday(4, at_least_days=3), "19:00", 2)
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
    make_user: UserFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, guest = await make_user(Role.customer)
    day = next_weekday(4)
    broken = (await book(client, guest, day, "19:00", 2)).json()["id"]
    fine = (await book(client, guest, day, "20:00", 2)).json()["id"]
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
    make_user: UserFactory,
) -> None:
    _, headers = await make_user(Role.customer)
    booking = (await book(client, headers, next_weekday(4), "19:00", 2)).json()
    sender = dispatcher(db, settings, clock)
    await sender.run_once()
    assert (await client.delete(f"/bookings/{booking['id']}", headers=headers)).status_code == 204
    await sender.run_once()
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=1)
    await sender.run_once()
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == [
        "Booking confirmed", "Booking cancelled"]  # fmt: skip
    assert (
        "by the restaurant"
        not in smtp.inbox.messages[1]
        .get_body(  # type: ignore[union-attr]
            preferencelist=("plain",)
        )
        .get_content()
    )
    statuses = {r.kind.value: r.status.value for r in await outbox_rows(db)}
    assert statuses == {"booking_confirmed": "sent", "booking_cancelled": "sent"}


async def test_restaurant_cancellation_says_so(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    _, guest = await make_user(Role.customer)
    _, staff = await make_user(Role.staff)
    booking = (await book(client, guest, next_weekday(4), "19:00", 2)).json()
    assert (await client.delete(f"/bookings/{booking['id']}", headers=staff)).status_code == 204
    await dispatcher(db, settings, clock).run_once()
    cancelled = smtp.inbox.messages[-1]
    assert smtp.inbox.subjects()[-1].startswith("Booking cancelled")
    body = cancelled.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "by the restaurant" in body


async def test_rolled_back_or_refused_booking_sends_nothing(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    _, headers = await make_user(Role.customer)

    async def refuse(_conn: Conn) -> None:
        raise RuntimeError("commit refused by test")

    day = next_weekday(4)
    with pytest.MonkeyPatch.context() as patch:  # the booking's transaction fails to commit
        patch.setattr(CoreConn, "commit", refuse)
        patch.setattr(NativeConn, "commit", refuse)
        # (with an Idempotency-Key, PostgreSQL books in a transaction too, not book_table)
        failed = await book(client, {**headers, "Idempotency-Key": "k1"}, day, "19:00", 2)
    assert failed.status_code == 500
    if db.backend == "postgres":  # book_table's last insert fails: the booking goes too
        async with refusing_outbox_inserts(db):
            failed = await book(client, headers, day, "19:00", 2)
        assert failed.status_code == 500
    assert (await book(client, headers, next_weekday(4), "19:00", 13)).status_code == 422
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


async def test_reminder_goes_out_at_its_time(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    _, headers = await make_user(Role.customer)
    booking = (await book(client, headers, next_weekday(4, at_least_days=3), "19:00", 2)).json()
    starts = datetime.fromisoformat(booking["starts_at"])
    sender = dispatcher(db, settings, clock)
    await sender.run_once()
    clock.now = starts - timedelta(hours=24, minutes=1)
    assert await sender.run_once() == 0
    assert [r.kind.value for r in await outbox_rows(db)] == ["booking_confirmed"]
    clock.now = starts - timedelta(hours=23, minutes=59)
    assert await sender.run_once() == 1
    assert smtp.inbox.subjects()[-1].startswith("Reminder")
    reminder = (await outbox_rows(db))[-1]
    assert reminder.next_attempt_at == starts - timedelta(hours=24)
    assert reminder.status == MessageStatus.sent
    clock.now += timedelta(minutes=5)
    assert await sender.run_once() == 0
    assert len(smtp.inbox.messages) == 2


async def test_dispatchers_side_by_side_queue_one_reminder_per_booking(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """Two workers sweeping at the same moment (and one sweeping again) queue each due
    reminder once; the database refuses a second reminder written around the app."""
    _, headers = await make_user(Role.customer)
    day = next_weekday(4, at_least_days=3)
    made = [(await book(client, headers, day, at, 2)).json() for at in ("18:00", "19:00")]
    ids = [m["id"] for m in made]
    # both reminders are due, neither booking has started
    clock.now = datetime.fromisoformat(made[0]["starts_at"]) - timedelta(hours=1)
    first, second = dispatcher(db, settings, clock), dispatcher(db, settings, clock)
    counts = await asyncio.gather(first.queue_reminders(), second.queue_reminders())
    assert sorted(counts) in ([0, 2], [1, 1])  # however the race went, two in all
    clock.now += timedelta(minutes=1)
    assert await first.queue_reminders() == 0
    reminders = [r for r in await outbox_rows(db) if r.kind.value == "booking_reminder"]
    assert sorted(r.booking_id for r in reminders) == ids
    async with db.database.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text(
                "INSERT INTO outbox_messages (kind, booking_id, recipient, status, attempts, "
                "next_attempt_at, created_at) VALUES ('booking_reminder', :b, 'x@example.com', "
                "'pending', 0, :now, :now)"
            ), {"b": ids[0], "now": clock.now})  # fmt: skip


async def test_a_queued_reminder_is_withdrawn_when_the_booking_is_cancelled(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    _, headers = await make_user(Role.customer)
    booking = (await book(client, headers, next_weekday(4, at_least_days=3), "19:00", 2)).json()
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1  # the confirmation
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=2)
    assert await sender.queue_reminders() == 1
    assert (await client.delete(f"/bookings/{booking['id']}", headers=headers)).status_code == 204
    assert await sender.run_once() == 1  # the cancellation notice, not the reminder
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == [
        "Booking confirmed", "Booking cancelled"]  # fmt: skip
    reminder = next(r for r in await outbox_rows(db) if r.kind.value == "booking_reminder")
    assert (reminder.status, reminder.last_error) == (MessageStatus.cancelled, "booking cancelled")


async def test_no_reminder_for_a_booking_made_inside_the_window(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    make_user: UserFactory,
    clock: Clock,
) -> None:
    _, staff = await make_user(Role.staff)  # staff may book inside the lead time
    _, admin = await make_user(Role.admin)
    await configure(client, admin, opening_hours=ALL_DAY)
    # tomorrow at 12:00 in the restaurant, so the slot 3 hours on is open whatever the
    # time of day the test runs
    london = ZoneInfo("Europe/London")
    tomorrow = datetime.now(london).date() + timedelta(days=1)
    clock.now = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=london)
    slot = (clock.now + timedelta(hours=3)).astimezone(london)
    made = await book(client, staff, slot.date(), slot.strftime("%H:%M"), 2)
    assert made.status_code == 201, made.text
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1  # the confirmation
    clock.now += timedelta(hours=1)
    assert await sender.run_once() == 0
    assert [r.kind.value for r in await outbox_rows(db)] == ["booking_confirmed"]
    assert len(smtp.inbox.messages) == 1


async def test_a_round_of_messages_goes_over_one_smtp_session(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    await book_times(client, make_user, "12:00", "13:00", "14:00", "15:00", "16:00")
    assert await dispatcher(db, settings, clock).run_once() == 5
    assert len(smtp.inbox.messages) == 5
    assert smtp.inbox.greetings == 1


async def test_a_session_dropped_between_rounds_is_replaced_and_nothing_is_lost(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """A full batch keeps the session open for the next round; when the mail server has
    dropped it meanwhile, the next message goes over a new one. An emptied queue closes
    the session."""
    await book_times(client, make_user, "12:00", "13:00", "14:00")
    sender = dispatcher(db, settings, clock, batch_size=2)
    assert await sender.run_once() == 2
    assert isinstance(sender.mailer, SmtpMailer) and sender.mailer.connected
    smtp.stop()  # the server goes away, and with it the session
    smtp.start()
    assert await sender.run_once() == 1
    assert len(smtp.inbox.messages) == 3
    assert len({m["X-Outbox-ID"] for m in smtp.inbox.messages}) == 3
    assert smtp.inbox.greetings == 2
    assert not sender.mailer.connected
    rows = await confirmations(db)
    assert [(r.status, r.attempts) for r in rows] == [(MessageStatus.sent, 1)] * 3


async def test_a_server_that_ends_sessions_after_each_message_still_gets_them_all(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """Mail servers cap the messages per session and answer the next with 421: that
    message goes over a new session at once, not after a retry's backoff."""

    class OnePerSession(Inbox):
        async def handle_MAIL(
            self, _server: Any, session: Any, envelope: Any, address: str, options: list[str]
        ) -> str:
            if getattr(session, "mails", 0):
                return "421 Too many messages in this session"
            session.mails = 1
            envelope.mail_from = address
            envelope.mail_options.extend(options)
            return "250 OK"

    smtp.stop()
    smtp.inbox = OnePerSession()
    smtp.start()
    await book_times(client, make_user, "12:00", "13:00", "14:00")
    assert await dispatcher(db, settings, clock).run_once() == 3
    assert len(smtp.inbox.messages) == 3
    assert smtp.inbox.greetings == 3
    rows = await confirmations(db)
    assert [(r.status, r.attempts) for r in rows] == [(MessageStatus.sent, 1)] * 3


async def test_smtp_down_retries_then_succeeds_and_bookings_are_unaffected(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    smtp.stop()
    await book_times(client, make_user, "12:00", "13:00")
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 2
    rows = await confirmations(db)
    assert all(r.status == MessageStatus.pending and r.attempts == 1 for r in rows)
    assert all(r.last_error for r in rows)
    assert await sender.run_once() == 0  # backing off: nothing due yet

    smtp.start()
    clock.now += timedelta(seconds=61)
    assert await sender.run_once() == 2
    assert len(smtp.inbox.messages) == 2
    rows = await confirmations(db)
    assert all(r.status == MessageStatus.sent and r.attempts == 2 for r in rows)


async def test_gives_up_after_max_attempts_and_admin_can_retry(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    smtp.stop()
    _, headers = await make_user(Role.customer)
    _, admin = await make_user(Role.admin)
    _, staff = await make_user(Role.staff)
    await book(client, headers, next_weekday(4), "19:00", 2)
    sender = dispatcher(db, settings, clock)
    for attempt in range(3):
        assert await sender.run_once() == 1, attempt
        clock.now += timedelta(hours=1)
    failed = (await client.get("/admin/outbox", params={"status": "failed"}, headers=admin)).json()
    assert failed["total"] == 1
    message = failed["items"][0]
    assert message["attempts"] == 3 and "Error" in message["last_error"]
    assert (await client.get("/admin/outbox", headers=staff)).status_code == 403
    assert (
        await client.post(f"/admin/outbox/{message['id']}/retry", headers=staff)
    ).status_code == 403

    smtp.start()
    retried = await client.post(f"/admin/outbox/{message['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    again = await client.post(f"/admin/outbox/{message['id']}/retry", headers=admin)
    assert again.status_code == 409
    assert await sender.run_once() == 1
    assert len(smtp.inbox.messages) == 1
    assert (await client.post("/admin/outbox/99999/retry", headers=admin)).status_code == 404


async def test_a_hanging_smtp_server_does_not_hold_up_bookings(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """A server that accepts and never answers: the dispatcher waits on it, bookings don't."""
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    _, headers = await make_user(Role.customer)
    day = next_weekday(4)
    await book(client, headers, day, "12:00", 2)
    stuck = dispatcher(
        db, settings.model_copy(update={"smtp_port": port, "smtp_timeout_seconds": 30}), clock
    )
    sending = asyncio.create_task(stuck.run_once())
    try:
        await asyncio.sleep(0.2)
        for at in ("13:00", "14:00", "15:00"):
            assert (await book(client, headers, day, at, 2)).status_code == 201
        assert (await client.get("/bookings", headers=headers)).json()["total"] == 4
        assert not sending.done()  # the dispatcher is still waiting on the silent server
    finally:
        sending.cancel()
        silent.close()


async def test_crashed_dispatcher_lease_expires_and_message_is_delivered(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """A process killed after the booking commit (or mid-send) loses no message."""
    _, headers = await make_user(Role.customer)
    await book(client, headers, next_weekday(4), "19:00", 2)
    crashed = dispatcher(db, settings, clock)
    assert len(await crashed.claim()) == 1  # claimed, then the process "dies"
    restarted = dispatcher(db, settings, clock)
    assert await restarted.run_once() == 0  # still leased to the dead one
    clock.now += timedelta(seconds=settings.outbox_lease_seconds + 1)
    assert await restarted.run_once() == 1
    assert len(smtp.inbox.messages) == 1


async def test_a_late_outcome_from_an_expired_lease_changes_nothing(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """A slow dispatcher whose lease ran out, and whose send then fails, must not undo
    the outcome recorded by the dispatcher that took the message over."""

    class Failing:
        async def send(self, _message: EmailMessage) -> None:
            raise ConnectionError("smtp went away")

        async def close(self) -> None:
            pass

    _, headers = await make_user(Role.customer)
    await book(client, headers, next_weekday(4), "19:00", 2)
    slow = dispatcher(db, settings, clock, mailer=Failing())
    [item] = await slow.claim()
    clock.now += timedelta(seconds=settings.outbox_lease_seconds + 1)
    assert await dispatcher(db, settings, clock).run_once() == 1  # taken over and sent
    await slow.send(item)  # fails, too late
    [row] = await confirmations(db)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.sent, 2, None)
    assert len(smtp.inbox.messages) == 1


@pytest.mark.postgres_only
async def test_two_dispatchers_never_send_one_row_twice(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    users = [await make_user(Role.customer) for _ in range(4)]
    day = next_weekday(4)
    times = [f"{h:02d}:{m:02d}" for h in range(12, 21) for m in (0, 30)][:12]
    for i, at in enumerate(times):
        for party in (2, 4):
            response = await book(client, users[i % 4][1], day, at, party)
            assert response.status_code == 201, response.text
    workers = [dispatcher(db, settings, clock, batch_size=3) for _ in range(2)]
    for _ in range(30):
        done = await asyncio.gather(*(w.run_once() for w in workers))
        if sum(done) == 0:
            break
    ids = [m["X-Outbox-ID"] for m in smtp.inbox.messages]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert all(
        r.status == MessageStatus.sent
        for r in await outbox_rows(db)
        if r.kind.value == "booking_confirmed"
    )


async def test_in_process_dispatcher_delivers_and_stops_cleanly(
    db: TestDatabase,
    smtp: SmtpServer,
    settings_overrides: dict[str, Any],
    make_user: UserFactory,
) -> None:
    settings = make_settings(
        db.url, **settings_overrides, outbox_in_process=True, outbox_poll_seconds=0.05
    )
    app = create_app(settings, database=db.database)
    _, headers = await make_user(Role.customer)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await book(client, headers, next_weekday(4), "19:00", 2)).status_code == 201
            for _ in range(100):
                if smtp.inbox.messages:
                    break
                await asyncio.sleep(0.05)
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == ["Booking confirmed"]


class RecordingPacer(CpuPacer):
    def __init__(self, share: float, others: float) -> None:
        # The machine's other processes keep `others` of 2 cores busy; this process's
        # own CPU time and the clock are real.
        start = time.monotonic()
        super().__init__(
            share,
            cores=2,
            machine_busy=lambda: (time.monotonic() - start) * others + time.process_time(),
            window=0.0,
        )
        self.rests: list[float] = []

    def rest(self) -> float:
        self.rests.append(super().rest())
        return self.rests[-1]


@pytest.mark.parametrize("others", [1.9, 0.2])
async def test_the_worker_rests_between_batches_only_while_the_machine_is_busy(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
    others: float,
) -> None:
    await book_times(client, make_user, "12:00", "12:30", "13:00", "13:30", "14:00", "18:00")
    pacer = RecordingPacer(0.25, others)
    worker = dispatcher(db, settings, clock, batch_size=2, pacer=pacer)
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(1500):  # at most 30 s
        if len(smtp.inbox.messages) == 6:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await running
    assert len(smtp.inbox.messages) == 6
    assert len(pacer.rests) == 3  # after each batch of two
    if others > 1:  # busy: 3 times each batch's own CPU time at a share of 1/4
        assert all(rest > 0 for rest in pacer.rests)
        assert time.monotonic() - started >= sum(pacer.rests[:2])
    else:
        assert pacer.rests == [0, 0, 0]


async def test_without_smtp_host_messages_go_to_the_log_and_folder(
    db: TestDatabase, tmp_path: Path, make_user: UserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(db.url, smtp_host="", mail_output_dir=str(tmp_path))
    app = create_app(settings, database=db.database)
    _, headers = await make_user(Role.customer)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        booking = (await book(client, headers, next_weekday(4), "19:00", 2)).json()
        await client.delete(f"/bookings/{booking['id']}", headers=headers)
    with caplog.at_level(logging.INFO, logger="app.mail"):
        assert await OutboxDispatcher(db.database, settings).run_once() == 2
    logged = [r for r in caplog.records if r.name == "app.mail"]
    assert len(logged) == 2
    assert [r.fields["subject"].split(":")[0] for r in logged] == [  # type: ignore[attr-defined]
        "Booking confirmed", "Booking cancelled"]  # fmt: skip
    assert len(await asyncio.to_thread(lambda: list(tmp_path.glob("*.eml")))) == 2


async def test_reminder_claimed_before_a_cancellation_is_not_sent(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    _, headers = await make_user(Role.customer)
    booking = (await book(client, headers, next_weekday(4, at_least_days=3), "19:00", 2)).json()
    sender = dispatcher(db, settings, clock)
    await sender.run_once()  # the confirmation
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=23)
    assert await sender.queue_reminders() == 1
    claimed = await sender.claim()
    assert [c.reminder_for for c in claimed] == [booking["id"]]
    assert (await client.delete(f"/bookings/{booking['id']}", headers=headers)).status_code == 204
    for item in claimed:
        await sender.send(item)
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == ["Booking confirmed"]
    reminder = next(r for r in await outbox_rows(db) if r.kind.value == "booking_reminder")
    assert reminder.status == MessageStatus.cancelled


async def test_worker_process_sends_what_the_web_process_queued(
    client: httpx.AsyncClient, db: TestDatabase, smtp: SmtpServer, make_user: UserFactory
) -> None:
    """`restaurant worker` (as docker-compose.yml runs it, OUTBOX_IN_PROCESS=false on the
    web side): a separate process that sends the queued confirmation and stops cleanly on
    SIGTERM, having lowered its own CPU priority by WORKER_NICE."""
    _, headers = await make_user(Role.customer, email="grace@example.com")
    booking = (await book(client, headers, next_weekday(4), "19:00", 2)).json()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": db.url,
        "SECRET_KEY": TEST_SECRET,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
        "MAIL_FROM": "Test Bistro <book@test.example>",
        "OUTBOX_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
        "WORKER_NICE": "7",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "worker", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert worker.stderr is not None
    try:
        deadline = time.monotonic() + 30
        while not smtp.inbox.messages and time.monotonic() < deadline:
            assert worker.returncode is None, await worker.stderr.read()
            await asyncio.sleep(0.1)
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(ours + 7, 19)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(worker.wait(), timeout=15)
        except TimeoutError:
            worker.kill()
            raise
    assert code == 0, await worker.stderr.read()
    assert len(smtp.inbox.messages) == 1
    message = smtp.inbox.messages[0]
    assert message["To"] == "grace@example.com"
    assert message["Message-ID"].endswith("@test.example>")
    assert smtp.inbox.subjects()[0].startswith("Booking confirmed")
    assert f"#{booking['id']}" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    rows = await outbox_rows(db)
    confirmation = next(r for r in rows if r.kind == "booking_confirmed")
    assert confirmation.status == MessageStatus.sent


async def test_a_slow_batch_records_what_it_sent_before_the_leases_run_out(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    """Outcomes are recorded once per batch, but a batch slowed down by its mail server
    records what it has sent whenever half the lease has gone by."""
    await book_times(client, make_user, "12:00", "13:00", "14:00")
    seen: list[list[str]] = []

    class Slow:
        async def send(self, _message: EmailMessage) -> None:
            rows = await outbox_rows(db)
            seen.append(sorted(r.status.value for r in rows if r.kind.value == "booking_confirmed"))
            await asyncio.sleep(0.15)

        async def close(self) -> None:
            pass

    slow = settings.model_copy(update={"outbox_lease_seconds": 0.2})
    assert await dispatcher(db, slow, clock, mailer=Slow()).run_once() == 3
    assert seen == [
        ["sending", "sending", "sending"],
        ["sending", "sending", "sent"],
        ["sending", "sent", "sent"],
    ]
    rows = await confirmations(db)
    assert [r.status for r in rows] == [MessageStatus.sent] * 3


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.postgres_only
async def test_a_claim_reads_only_the_messages_it_takes_however_long_the_queue(
    db: TestDatabase,
) -> None:
    """5,000 confirmations queued (a burst of bookings) beside 5,000 sent: the claim of
    20 walks the due-queue index in order and stops after 20 rows, with no sort of the
    backlog (migration 0010). The plan is read with EXPLAIN ANALYZE of the very query
    the dispatcher runs."""
    now = datetime.now(UTC)
    rows = [
        {"kind": "booking_confirmed", "recipient": f"guest{n}@example.com",
         "status": MessageStatus.sent if n % 2 else MessageStatus.pending, "attempts": 0,
         "next_attempt_at": now - timedelta(seconds=n), "created_at": now}
        for n in range(10_000)
    ]  # fmt: skip
    async with db.database.engine.begin() as conn:
        await conn.execute(OutboxMessage.__table__.insert(), rows)
        await conn.execute(text("ANALYZE outbox_messages"))
    native = Query(due_messages(now, 20)).native(db.database.engine.dialect)
    async with db.database.connect(write=False) as conn:
        assert isinstance(conn, NativeConn)
        plan = await conn.driver.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + native.sql, *native.args({})
        )
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    scans = [n for n in nodes if n.get("Index Name") == "ix_outbox_messages_due"]
    assert scans and scans[0]["Node Type"] == "Index Scan", nodes
    assert scans[0]["Actual Rows"] == 20
    assert not [n for n in nodes if "Sort" in n["Node Type"]]
