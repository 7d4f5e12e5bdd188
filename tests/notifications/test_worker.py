"""`restaurant worker` (app/cli.py): the separate process that sends what the web
process queued."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import httpx

from app.auth.models import Role
from app.notifications.models import MessageStatus
from tests.conftest import TEST_SECRET, TestDatabase, UserFactory
from tests.factories import FRIDAY, booked, next_weekday
from tests.notifications.helpers import SmtpServer, outbox_rows, plain_text


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
