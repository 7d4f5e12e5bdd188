"""Reminders (app/notifications/dispatcher.py's sweep): queued when due, once per booking
however many workers sweep, withdrawn or not sent once the booking is cancelled."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.notifications.models import MessageStatus
from tests.conftest import TestDatabase
from tests.factories import (
    ALL_DAY,
    FRIDAY,
    LONDON,
    Headers,
    book,
    booked,
    configure,
    next_weekday,
    tomorrow_at_noon,
)
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, outbox_rows


async def test_reminder_goes_out_at_its_time(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=3), "19:00", 2)
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
    guest: Headers,
) -> None:
    """Two workers sweeping at the same moment (and one sweeping again) queue each due
    reminder once; the database refuses a second reminder written around the app."""
    day = next_weekday(FRIDAY, at_least_days=3)
    made = [await booked(client, guest, day, at, 2) for at in ("17:00", "19:00")]
    ids = [m["id"] for m in made]
    # both reminders are due, neither booking has started
    clock.now = datetime.fromisoformat(made[0]["starts_at"]) - timedelta(hours=1)
    first, second = dispatcher(db, settings, clock), dispatcher(db, settings, clock)
    counts = await asyncio.gather(first.queue_reminders(), second.queue_reminders())
    assert sorted(counts) in ([0, 2], [1, 1])  # however the race went, two in all
    clock.now += timedelta(minutes=1)
    assert await first.queue_reminders() == 0
    reminders = [r for r in await outbox_rows(db) if r.kind.value == "booking_reminder"]
    booking_ids = [r.booking_id for r in reminders]
    assert None not in booking_ids
    assert sorted(b for b in booking_ids if b is not None) == ids
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
    guest: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=3), "19:00", 2)
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1  # the confirmation
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=2)
    assert await sender.queue_reminders() == 1
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    assert await sender.run_once() == 1  # the cancellation notice, not the reminder
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == [
        "Booking confirmed", "Booking cancelled"]  # fmt: skip
    reminder = next(r for r in await outbox_rows(db) if r.kind.value == "booking_reminder")
    assert (reminder.status, reminder.last_error) == (MessageStatus.cancelled, "booking cancelled")


async def test_reminder_claimed_before_a_cancellation_is_not_sent(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    guest: Headers,
) -> None:
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=3), "19:00", 2)
    sender = dispatcher(db, settings, clock)
    await sender.run_once()  # the confirmation
    clock.now = datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=23)
    assert await sender.queue_reminders() == 1
    claimed = await sender.claim()
    assert [c.reminder_for for c in claimed] == [booking["id"]]
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    for item in claimed:
        await sender.send(item)
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == ["Booking confirmed"]
    reminder = next(r for r in await outbox_rows(db) if r.kind.value == "booking_reminder")
    assert reminder.status == MessageStatus.cancelled


async def test_no_reminder_for_a_booking_made_inside_the_window(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    staff: Headers,  # staff may book inside the lead time
    admin: Headers,
    clock: Clock,
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY)
    # tomorrow at 12:00 in the restaurant, so the slot 3 hours on is open whatever the
    # time of day the test runs
    clock.now = tomorrow_at_noon()
    slot = (clock.now + timedelta(hours=3)).astimezone(LONDON)
    made = await book(client, staff, slot.date(), slot.strftime("%H:%M"), 2)
    assert made.status_code == 201, made.text
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 1  # the confirmation
    clock.now += timedelta(hours=1)
    assert await sender.run_once() == 0
    assert [r.kind.value for r in await outbox_rows(db)] == ["booking_confirmed"]
    assert len(smtp.inbox.messages) == 1
