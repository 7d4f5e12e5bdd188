"""The notification tests' set-up: an SMTP server to deliver to (aiosmtpd), a clock the
app and the dispatcher share, and the outbox's rows."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.auth.models import Role
from app.config import Settings
from app.notifications.dispatcher import OutboxDispatcher
from app.notifications.models import OutboxMessage
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, book, next_weekday
from tests.servers import free_port


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
    """A real SMTP server on a free local port; stop and start it to take it away."""

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


class Clock:
    """The time the app and the dispatchers read; a test moves it on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def dispatcher(db: TestDatabase, settings: Settings, clock: Clock, **kw: Any) -> OutboxDispatcher:
    return OutboxDispatcher(db.database, settings, clock=clock, **kw)


async def outbox_rows(db: TestDatabase) -> list[OutboxMessage]:
    async with db.database.reader() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def confirmations(db: TestDatabase) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(db) if r.kind.value == "booking_confirmed"]


async def book_times(client: httpx.AsyncClient, make_user: UserFactory, *times: str) -> None:
    """A new guest for each of `times` books a table for two then, on a Friday at least two
    days away (so no reminder falls due while the test runs, whatever the time of day).
    One guest each: one guest's bookings may not overlap (fair use)."""
    day = next_weekday(FRIDAY, at_least_days=2)
    for at in times:
        _, headers = await make_user(Role.customer)
        assert (await book(client, headers, day, at, 2)).status_code == 201


def plain_text(message: EmailMessage, subtype: str = "plain") -> str:
    """The content of the message's text/plain (or other `subtype`) part."""
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())
