"""Building booking e-mails: the cached header registry must give exactly the message the
standard policy gives, and messages that share parsed headers must stay independent."""

from __future__ import annotations

import re
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

import pytest

from app.notifications import mailer
from tests.conftest import make_settings

TEXT = "Hello Zoë,\n\nyour table for 4 on Friday at 19:00 is booked.\n"
HTML = "<p>Hello Zoë,</p><p>your table for 4 on Friday at 19:00 is booked.</p>\n"


def _build(recipient: str, subject: str, message_id: int, mail_from: str) -> EmailMessage:
    settings = make_settings("sqlite+aiosqlite:///:memory:", mail_from=mail_from)
    return mailer.build_message(
        settings, recipient=recipient, subject=subject, text=TEXT, html=HTML,
        message_id=message_id,
    )  # fmt: skip


def _comparable(message: EmailMessage) -> bytes:
    """The message as sent over SMTP, with its random boundary and Message-ID fixed."""
    raw = message.as_bytes(policy=email_policy.SMTP)
    boundary = message.get_boundary()
    assert boundary is not None
    raw = raw.replace(boundary.encode(), b"BOUNDARY")
    return re.sub(rb"Message-ID: <[^>]+>", b"Message-ID: <ID>", raw)


@pytest.mark.parametrize(
    "mail_from",
    ["The Restaurant <bookings@example.com>", "Café Zoë <réservations@example.com>"],
)
def test_cached_headers_give_the_same_message_as_the_standard_policy(
    monkeypatch: pytest.MonkeyPatch, mail_from: str
) -> None:
    subject = "Your table on Friday 27 November at 19:00 — Café Zoë"
    cached = [_build(f"guest{n}@example.com", subject, n, mail_from) for n in range(3)]
    monkeypatch.setattr(mailer, "POLICY", email_policy.default)
    standard = [_build(f"guest{n}@example.com", subject, n, mail_from) for n in range(3)]
    for ours, reference in zip(cached, standard, strict=True):
        assert _comparable(ours) == _comparable(reference)
        parsed = message_from_bytes(ours.as_bytes(), policy=email_policy.default)
        assert parsed["From"] == mail_from
        assert parsed["Subject"] == subject
        body = parsed.get_body(preferencelist=("plain",))
        assert body is not None and body.get_content() == TEXT


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
