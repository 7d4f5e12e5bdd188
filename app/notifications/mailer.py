"""Delivering a message: SMTP (aiosmtplib), or the log when no SMTP server is configured."""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from app.config import Settings
from app.notifications import invitation
from app.notifications.invitation import Invitation

logger = logging.getLogger("app.mail")


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...

    async def close(self) -> None:
        """Let go of any connection kept between sends."""


class _Headers(HeaderRegistry):
    """The standard registry builds a new class for every header of every message, and
    parses every value it is given: the bulk of build_message's time (figures in
    docs/performance.md). The class for a name
    is always the same, so keep it; and keep the parsed headers whose value repeats from
    message to message (the sender, MIME-Version, each part's Content-Type, encoding and
    disposition (the invitation's file name is always the same); not the guest's address
    or subject). Header objects are immutable, so messages can
    share them."""

    REPEATING = frozenset({"from", "mime-version", "content-type", "content-transfer-encoding",
                           "content-disposition"})  # fmt: skip

    @functools.cache  # noqa: B019 - one registry for the process
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)

    def __call__(self, name: str, value: object) -> BaseHeader:
        if type(value) is str and name.lower() in self.REPEATING:
            return self._parsed(name, value)
        return super().__call__(name, value)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one registry for the process
    def _parsed(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)


POLICY = policy.default.clone(header_factory=_Headers())


@functools.cache
def _message_id_domain(mail_from: str) -> str:
    """The sender's domain, as mail servers do, instead of a host-name lookup per
    message (make_msgid's default)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2]
    return domain or socket.getfqdn()


def build_message(
    settings: Settings,
    *,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: int,
    calendar: Invitation | None = None,
) -> EmailMessage:
    """The e-mail: text and HTML alternatives and, for a booking notice, its calendar
    invitation as a text/calendar attachment with the iTIP method (REQUEST, CANCEL)."""
    message = EmailMessage(policy=POLICY)
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(
        idstring=f"outbox-{message_id}", domain=_message_id_domain(settings.mail_from)
    )
    message["X-Outbox-ID"] = str(message_id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if calendar is not None:
        message.add_attachment(
            calendar.to_ics(), subtype="calendar", filename=invitation.FILENAME,
            params={"method": calendar.method},
        )  # fmt: skip
    return message


def _session_ended(exc: BaseException) -> bool:
    """The server ended the session rather than refused the message."""
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421


class SmtpMailer:
    """Sends over one SMTP connection kept open between messages (the dispatcher closes
    it when its queue is empty), instead of a connection, greeting, STARTTLS handshake
    and login for every message. A session the server has ended (dropped while idle, or
    closed with 421, as servers do after so many messages) is replaced once for the
    message at hand; any other failure drops it, so the next message starts afresh."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._hostname: str | None = None  # given in EHLO: looked up once, not per connection

    async def _connect(self) -> aiosmtplib.SMTP:
        self._drop()  # a session the server closed, if any
        s = self.settings
        if self._hostname is None:
            self._hostname = await asyncio.to_thread(socket.getfqdn)
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
            local_hostname=self._hostname,
        )
        await client.connect()
        self._client = client
        return client

    @property
    def connected(self) -> bool:
        """Whether a session is kept open."""
        return self._client is not None and self._client.is_connected

    async def send(self, message: EmailMessage) -> None:
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.send_message(message)
                return
            except BaseException as exc:  # in an unknown state: not to be reused
                self._drop()
                if not _session_ended(exc):
                    raise
        client = await self._connect()
        try:
            await client.send_message(message)
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()  # the server is gone already: just drop the socket


class LogMailer:
    """No SMTP server configured (the `make run` default): log each message, and write it
    as an .eml file when MAIL_OUTPUT_DIR is set."""

    def __init__(self, settings: Settings) -> None:
        self.folder = Path(settings.mail_output_dir) if settings.mail_output_dir else None

    async def close(self) -> None:
        return None

    async def send(self, message: EmailMessage) -> None:
        if logger.isEnabledFor(logging.INFO):
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            fields = {"to": message["To"], "subject": message["Subject"], "text": text}
            logger.info("mail (not sent: SMTP_HOST is not set)", extra={"fields": fields})
        if self.folder is not None:
            await asyncio.to_thread(self._write, message, self.folder)

    @staticmethod
    def _write(message: EmailMessage, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message['X-Outbox-ID']}.eml").write_bytes(bytes(message))


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer(settings)
