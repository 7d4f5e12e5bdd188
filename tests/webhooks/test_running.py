"""What the triggers on `bookings` raise for each change (plain SQL, as a script would
write), the dispatcher running in the web process, and old deliveries purged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, text

from app.config import Settings
from app.housekeeping import purge
from app.main import create_app
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from tests.conftest import TestDatabase, make_settings
from tests.factories import FRIDAY, Headers, booked, next_weekday
from tests.webhooks.conftest import Receiver, drain, register


async def events(db: TestDatabase) -> list[tuple[str, str | None]]:
    async with db.database.reader() as session:
        rows = await session.execute(
            select(WebhookEvent.type, WebhookEvent.status).order_by(WebhookEvent.id)
        )
        return [(row[0], row[1]) for row in rows]


async def test_which_changes_raise_which_events(
    client: httpx.AsyncClient, admin: Headers, guest: Headers, db: TestDatabase
) -> None:
    await register(client, admin, "http://127.0.0.1:9/hooks")
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    steps = [
        ("special_requests = 'window'", []),  # not what a receiver is told about
        ("party_size = 3", [("booking.changed", "confirmed")]),
        ("starts_at = starts_at", []),  # the same value: no change
        ("table_id = (SELECT max(id) FROM tables)", [("booking.changed", "confirmed")]),
        ("status = 'seated'", [("booking.seated", "seated")]),
        ("party_size = 4", []),  # a seated party's changes are the floor's business
        ("status = 'completed'", []),
    ]
    expected = [("booking.created", "confirmed")]
    assert await events(db) == expected
    for change, raised in steps:
        async with db.database.writer() as session, session.begin():
            await session.execute(
                text(f"UPDATE bookings SET {change} WHERE id = :id"),
                {"id": booking["id"]},
            )
        expected += raised
        assert await events(db) == expected, change


async def test_the_web_process_runs_the_dispatcher(
    db: TestDatabase, receiver: Receiver, admin: Headers, guest: Headers
) -> None:
    """OUTBOX_IN_PROCESS (make run's default): the web process sends webhooks itself."""
    settings = make_settings(db.url, outbox_in_process=True, webhook_poll_seconds=0.05,
                             smtp_host="")  # fmt: skip
    app = create_app(settings, database=db.database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            endpoint = await register(client, admin, receiver.url, ["booking.created"])
            await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
            assert await asyncio.to_thread(receiver.accepted.wait, 10)
    assert len(receiver.delivered()) == 1
    assert endpoint["secret"]


async def test_housekeeping_drops_deliveries_delivered_a_month_ago(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    db: TestDatabase,
    receiver: Receiver,
    settings: Settings,
) -> None:
    from app.webhooks.dispatcher import WebhookDispatcher

    endpoint = await register(client, admin, receiver.url)
    day = next_weekday(FRIDAY, at_least_days=2)
    await booked(client, guest, day, "19:00", 2)
    sender = WebhookDispatcher(db.database, settings)
    try:
        await drain(sender)
    finally:
        await sender.close()
    async with db.database.writer() as session, session.begin():
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint["id"],
                event_id=999,
                message_id="msg_failed",
                event_type="booking.created",
                booking_id=None,
                body="{}",
                status=DeliveryStatus.failed,
                attempts=3,
                next_attempt_at=datetime.now(UTC) - timedelta(days=40),
                created_at=datetime.now(UTC) - timedelta(days=40),
            )
        )
    now = datetime.now(UTC)
    assert (await purge(db.database, now))["webhook_deliveries"] == 0
    counts = await purge(db.database, now + timedelta(days=31))
    assert counts["webhook_deliveries"] == 1
    async with db.database.reader() as session:
        left = list(await session.scalars(select(WebhookDelivery.status)))
        attempts = await session.scalar(text("SELECT count(*) FROM webhook_attempts"))
    assert left == [DeliveryStatus.failed] and attempts == 0
