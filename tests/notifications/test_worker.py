"""`restaurant worker` (app/cli.py): the separate process that sends what the web
process queued."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import insert

from app.auth.models import Role
from app.db.base import utcnow
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from tests.conftest import TEST_SECRET, TestDatabase, UserFactory
from tests.factories import FRIDAY, booked, next_weekday
from tests.notifications.helpers import Inbox, SmtpServer, outbox_rows, plain_text
from tests.servers import free_port


async def test_worker_process_sends_what_the_web_process_queued(
    client: httpx.AsyncClient, db: TestDatabase, smtp: SmtpServer, make_user: UserFactory
) -> None:
    """`restaurant worker` (as docker-compose.yml runs it, OUTBOX_IN_PROCESS=false on the
    web side): a separate process that sends the queued confirmation and stops cleanly on
    SIGTERM, having lowered its own CPU priority by WORKER_NICE."""
    _, headers = await make_user(Role.customer, email="grace@example.com")
    booking = await booked(client, headers, next_weekday(FRIDAY), "19:00", 2)
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
    assert f"#{booking['id']}" in plain_text(message)
    rows = await outbox_rows(db)
    confirmation = next(r for r in rows if r.kind == "booking_confirmed")
    assert confirmation.status == MessageStatus.sent


class SlowInbox(Inbox):
    """An SMTP server that takes a moment over each message, as a real relay does."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


async def _queue_mail(db: TestDatabase, count: int) -> None:
    now = utcnow()
    rows = [
        {"kind": MessageKind.account_welcome, "recipient": f"guest{n}@example.com",
         "subject": f"Welcome {n}", "body_text": "Hello", "body_html": "<p>Hello</p>",
         "status": MessageStatus.pending, "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for n in range(count)
    ]  # fmt: skip
    async with db.database.engine.begin() as conn:
        await conn.execute(insert(OutboxMessage), rows)


async def test_a_killed_worker_resends_at_most_one_message_and_its_claims_move_on(
    db: TestDatabase,
) -> None:
    """300 e-mails; the worker is killed (SIGKILL) mid-batch. At most the one message in
    flight is sent twice (each outcome is recorded as it is sent), and a new worker picks
    up the dead one's claims within seconds (their short lease runs out unrenewed)."""
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    await _queue_mail(db, 300)
    lease = 3.0
    env = {
        **os.environ, "ENVIRONMENT": "test", "DATABASE_URL": db.url, "SECRET_KEY": TEST_SECRET,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false",
        "MAIL_FROM": "Test Bistro <book@test.example>", "OUTBOX_POLL_SECONDS": "0.2",
        "OUTBOX_LEASE_SECONDS": str(lease), "OUTBOX_CPU_SHARE": "1", "WORKER_NICE": "0",
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "worker", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def until(condition: Any, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            for _ in range(int(seconds / 0.02) + 1):  # bounded: the timeout ends it first
                if condition():
                    return
                await asyncio.sleep(0.02)

    first = await start()
    second = None
    try:
        await until(lambda: len(inbox.messages) >= 30, 60)
        first.kill()  # no clean-up: as a crash or an OOM kill
        await first.wait()
        killed_at = time.monotonic()
        # What the dead worker had claimed and not recorded: its lease must run out.
        stranded = {str(r.id) for r in await outbox_rows(db) if r.status == MessageStatus.sending}
        assert stranded, "the worker died between batches; nothing was left claimed"
        second = await start()

        def delivered() -> set[str]:
            return {str(m["X-Outbox-ID"]) for m in inbox.messages}

        await until(lambda: stranded <= delivered(), 60)
        resumed_after = time.monotonic() - killed_at
        await until(lambda: len(delivered()) == 300, 120)
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()
        controller.stop()
    ids = Counter(m["X-Outbox-ID"] for m in inbox.messages)
    twice = [outbox_id for outbox_id, n in ids.items() if n > 1]
    assert len(twice) <= 1, f"sent twice: {twice}"
    assert len(ids) == 300
    # The dead worker's claims were sent within its lease (plus a poll and the new
    # worker's start-up), not the 300 s a long lease would have held them.
    assert resumed_after < lease + 10, resumed_after
    rows = await outbox_rows(db)
    assert {r.status for r in rows} == {MessageStatus.sent}
