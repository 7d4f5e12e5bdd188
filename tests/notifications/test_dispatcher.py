"""The outbox dispatcher (app/notifications/dispatcher.py): retries and giving up, leases
that expire, outcomes recorded in time, never one row sent twice, the claim's query,
and running in the web process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text

from app.auth.models import Role
from app.config import Settings
from app.db.base import utcnow
from app.db.statements import NativeConn, Query
from app.main import create_app
from app.notifications.dispatcher import OutboxDispatcher, due_messages
from app.notifications.models import MessageStatus, OutboxMessage
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, Headers, book, next_weekday
from tests.notifications.helpers import (
    Clock,
    SmtpServer,
    book_times,
    confirmations,
    dispatcher,
    outbox_rows,
)


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
    guest: Headers,
    admin: Headers,
    staff: Headers,
) -> None:
    # A Friday at least two days away: the clock moves three hours on, and a booking
    # tomorrow would have its reminder fall due meanwhile (one message more).
    smtp.stop()
    await book(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
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
    guest: Headers,
) -> None:
    """A server that accepts and never answers: the dispatcher waits on it, bookings don't."""
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    day = next_weekday(FRIDAY)
    await book(client, guest, day, "12:00", 2)
    stuck = dispatcher(
        db, settings.model_copy(update={"smtp_port": port, "smtp_timeout_seconds": 30}), clock
    )
    sending = asyncio.create_task(stuck.run_once())
    try:
        await asyncio.sleep(0.2)
        for at in ("14:00", "16:00", "18:00"):  # one guest's bookings may not overlap
            assert (await book(client, guest, day, at, 2)).status_code == 201
        assert (await client.get("/bookings", headers=guest)).json()["total"] == 4
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
    guest: Headers,
) -> None:
    """A process killed after the booking commit (or mid-send) loses no message."""
    await book(client, guest, next_weekday(FRIDAY), "19:00", 2)
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
    guest: Headers,
) -> None:
    """A slow dispatcher whose lease ran out, and whose send then fails, must not undo
    the outcome recorded by the dispatcher that took the message over."""

    class Failing:
        async def send(self, _message: EmailMessage) -> None:
            raise ConnectionError("smtp went away")

        async def close(self) -> None:
            pass

    await book(client, guest, next_weekday(FRIDAY), "19:00", 2)
    slow = dispatcher(db, settings, clock, mailer=Failing())
    [item] = await slow.claim()
    clock.now += timedelta(seconds=settings.outbox_lease_seconds + 1)
    assert await dispatcher(db, settings, clock).run_once() == 1  # taken over and sent
    await slow.send(item)  # fails, too late
    [row] = await confirmations(db)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.sent, 2, None)
    assert len(smtp.inbox.messages) == 1


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


@pytest.mark.postgres_only
async def test_two_dispatchers_never_send_one_row_twice(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_user: UserFactory,
) -> None:
    users = [await make_user(Role.staff) for _ in range(4)]  # staff: no fair-use limit
    day = next_weekday(FRIDAY)
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
    guest: Headers,
) -> None:
    settings = make_settings(
        db.url, **settings_overrides, outbox_in_process=True, outbox_poll_seconds=0.05
    )
    app = create_app(settings, database=db.database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=recording(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await book(client, guest, next_weekday(FRIDAY), "19:00", 2)).status_code == 201
            for _ in range(100):
                if smtp.inbox.messages:
                    break
                await asyncio.sleep(0.05)
    assert [s.split(":")[0] for s in smtp.inbox.subjects()] == ["Booking confirmed"]


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
        await conn.execute(insert(OutboxMessage), rows)
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


async def test_a_working_dispatcher_keeps_its_claims_past_the_lease(
    client: httpx.AsyncClient, db: TestDatabase, settings: Settings, make_user: UserFactory
) -> None:
    """A slow mail server: sending three messages takes longer than a lease, but the
    dispatcher renews its claims while it works, so another dispatcher polling all the
    while takes none of them over, and each message is sent once."""
    await book_times(client, make_user, "12:00", "13:00", "14:00")
    sent: list[str] = []

    class Slow:
        async def send(self, message: EmailMessage) -> None:
            await asyncio.sleep(0.4)
            sent.append(str(message["X-Outbox-ID"]))

        async def close(self) -> None:
            pass

    short = settings.model_copy(update={"outbox_lease_seconds": 0.6})
    working = OutboxDispatcher(db.database, short, mailer=Slow(), clock=utcnow)
    rival = OutboxDispatcher(db.database, short, mailer=Slow(), clock=utcnow)
    sending = asyncio.create_task(working.run_once())
    taken_over = 0
    while not sending.done():  # bounded: the send takes about 1.2 s
        await asyncio.sleep(0.1)
        taken_over += len(await rival.claim())
    assert await sending == 3
    assert taken_over == 0
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 3
