"""Delivering e-mails (app/notifications/mailer.py). Building them: the cached header
registry must give exactly the message the standard policy gives, and messages that
share parsed headers must stay independent. Sending them: one SMTP session per round,
a new one when the server drops or ends it, and the log and a folder without a server."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.notifications import mailer
from app.notifications.dispatcher import OutboxDispatcher
from app.notifications.invitation import Invitation
from app.notifications.mailer import SmtpMailer
from app.notifications.models import MessageStatus
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, Headers, booked, next_weekday
from tests.notifications.helpers import (
    Clock,
    Inbox,
    SmtpServer,
    book_times,
    confirmations,
    dispatcher,
)

TEXT = "Hello Zoë,\n\nyour table for 4 on Friday at 19:00 is booked.\n"


HTML = "<p>Hello Zoë,</p><p>your table for 4 on Friday at 19:00 is booked.</p>\n"


def _invitation(message_id: int) -> Invitation:
    zone = ZoneInfo("Europe/Paris")
    return Invitation(
        method="CANCEL" if message_id % 2 else "REQUEST", uid=f"booking-{message_id}@example.com",
        sequence=message_id, starts_at=datetime(2026, 12, 4, 19, tzinfo=zone),
        ends_at=datetime(2026, 12, 4, 21, tzinfo=zone), stamp=datetime(2026, 12, 1, tzinfo=UTC),
        summary="Café Zoë: table for 4 guests", location="1 rue de la Paix, Paris",
        description="Booking reference: #1.", organizer_name="Café Zoë",
        organizer_email="hello@example.com", attendee_name="Zoë",
        attendee_email="zoe@example.com",
    )  # fmt: skip


def _build(
    recipient: str, subject: str, message_id: int, mail_from: str, *, calendar: bool = False
) -> EmailMessage:
    settings = make_settings("sqlite+aiosqlite:///:memory:", mail_from=mail_from)
    return mailer.build_message(
        settings, recipient=recipient, subject=subject, text=TEXT, html=HTML,
        message_id=message_id, calendar=_invitation(message_id) if calendar else None,
    )  # fmt: skip


def _comparable(message: EmailMessage) -> bytes:
    """The message as sent over SMTP, with its random boundaries and Message-ID fixed."""
    raw = message.as_bytes(policy=email_policy.SMTP)
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert boundaries and None not in boundaries
    for n, boundary in enumerate(boundaries):
        raw = raw.replace(str(boundary).encode(), f"BOUNDARY{n}".encode())
    return re.sub(rb"Message-ID: <[^>]+>", b"Message-ID: <ID>", raw)


@pytest.mark.parametrize("calendar", [False, True], ids=["plain", "with-invitation"])
@pytest.mark.parametrize(
    "mail_from",
    ["The Restaurant <bookings@example.com>", "Café Zoë <réservations@example.com>"],
)
def test_cached_headers_give_the_same_message_as_the_standard_policy(
    monkeypatch: pytest.MonkeyPatch, mail_from: str, calendar: bool
) -> None:
    subject = "Your table on Friday 27 November at 19:00 — Café Zoë"
    cached = [_build(f"guest{n}@example.com", subject, n, mail_from, calendar=calendar)
              for n in range(3)]  # fmt: skip
    monkeypatch.setattr(mailer, "POLICY", email_policy.default)
    standard = [_build(f"guest{n}@example.com", subject, n, mail_from, calendar=calendar)
                for n in range(3)]  # fmt: skip
    for ours, reference in zip(cached, standard, strict=True):
        assert _comparable(ours) == _comparable(reference)
        parsed = message_from_bytes(ours.as_bytes(), policy=email_policy.default)
        assert parsed["From"] == mail_from
        assert parsed["Subject"] == subject
        body = parsed.get_body(preferencelist=("plain",))
        assert body is not None and body.get_content() == TEXT
        invitations = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        assert len(invitations) == calendar
        for part in invitations:  # the method, and the text as written, survive the cache
            assert (
                part.get_param("method") == ("CANCEL", "REQUEST")[int(ours["X-Outbox-ID"]) % 2 == 0]
            )
            assert part.get_content().replace("\r\n", "\n") == _invitation(
                int(ours["X-Outbox-ID"])
            ).to_ics().replace("\r\n", "\n")


def test_messages_sharing_parsed_headers_stay_independent() -> None:
    first = _build("ana@example.com", "Booking 1", 1, "The Restaurant <bookings@example.com>")
    second = _build("ben@example.com", "Booking 2", 2, "The Restaurant <bookings@example.com>")
    assert first["From"] is second["From"]  # parsed once, shared
    first.replace_header("From", "Someone Else <else@example.com>")
    del first["To"]
    assert second["From"] == "The Restaurant <bookings@example.com>"
    assert second["To"] == "ben@example.com"
    assert second["Subject"] == "Booking 2" and first["Subject"] == "Booking 1"
    assert second["X-Outbox-ID"] == "2"


# -- Sending over SMTP ---------------------------------------------------------------------


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


async def test_without_smtp_host_messages_go_to_the_log_and_folder(
    db: TestDatabase, tmp_path: Path, guest: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(db.url, smtp_host="", mail_output_dir=str(tmp_path))
    app = create_app(settings, database=db.database)
    transport = httpx.ASGITransport(app=recording(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        booking = await booked(client, guest, next_weekday(FRIDAY), "19:00", 2)
        await client.delete(f"/bookings/{booking['id']}", headers=guest)
    with caplog.at_level(logging.INFO, logger="app.mail"):
        assert await OutboxDispatcher(db.database, settings).run_once() == 2
    logged = [r for r in caplog.records if r.name == "app.mail"]
    assert len(logged) == 2
    subjects = [vars(r)["fields"]["subject"] for r in logged]  # logged with extra={"fields": ...}
    assert [s.split(":")[0] for s in subjects] == ["Booking confirmed", "Booking cancelled"]
    assert len(await asyncio.to_thread(lambda: list(tmp_path.glob("*.eml")))) == 2
