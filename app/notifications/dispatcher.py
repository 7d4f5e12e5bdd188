"""The outbox dispatcher: claim due messages, send them, record the outcome.

Claiming is a short transaction that marks rows `sending` with a lease (on PostgreSQL
with FOR UPDATE SKIP LOCKED, so dispatchers never claim the same row; on SQLite the
claim runs under the write lock, one dispatcher at a time). Sending happens outside any
transaction, so a slow or dead SMTP server never holds a lock that bookings need.
Reminders are queued by the dispatcher itself when they fall due (queue_reminders).
Confirmations, changes and reminders are queued without their text and rendered at the
claim; booking notices get their calendar invitation there too (built when sent).

Each message's outcome is recorded as soon as it is sent, so a dispatcher that dies
mid-batch sends at most the one message in flight again. Its claims carry a short lease
(OUTBOX_LEASE_SECONDS) that it renews while it is working; a dead dispatcher stops
renewing, and another one claims its messages once the lease runs out, within seconds.
Every round, and every renewal, also writes the dispatcher's heartbeat
(worker_heartbeats), which readiness reports. Failures retry with exponential backoff
and, after the last attempt, stay `failed` with the error kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, Update, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.background import pause
from app.bookings.models import Booking, BookingStatus
from app.config import Settings
from app.db.base import UTCDateTime, utcnow
from app.db.engine import Database
from app.notifications.invitation import Invitation
from app.notifications.mailer import Mailer, build_message, mailer_for
from app.notifications.models import (
    TO_SEND,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    WorkerHeartbeat,
)
from app.notifications.outbox import queue_due_reminders, render_due
from app.notifications.pacing import CpuPacer

logger = logging.getLogger("app.outbox")


def _recording(status: MessageStatus, **values: Any) -> Update:
    """The UPDATE that records an outcome, built once (its compiled form is cached)."""
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == bindparam("claimed_id"),
            OutboxMessage.status == MessageStatus.sending,
            OutboxMessage.attempts == bindparam("claimed_attempts"),
        )
        .values(status=status, lease_until=None, **values)
    )


_RENEW = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("claimed_id"),
        OutboxMessage.status == MessageStatus.sending,
        OutboxMessage.attempts == bindparam("claimed_attempts"),
    )
    .values(lease_until=bindparam("new_lease", type_=UTCDateTime))
)


async def heartbeat(database: Database, name: str, at: datetime) -> None:
    """Write `name`'s heartbeat (insert, or move the time on)."""
    dialect = sqlite if database.is_sqlite else postgresql
    statement = dialect.insert(WorkerHeartbeat).values(name=name, beat_at=at)
    statement = statement.on_conflict_do_update(
        index_elements=["name"], set_={"beat_at": statement.excluded.beat_at}
    )
    async with database.engine.begin() as conn:
        await conn.execute(statement)


async def last_heartbeat(database: Database) -> datetime | None:
    """The newest heartbeat of any dispatcher."""
    async with database.engine.connect() as conn:
        found = await conn.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    return found


_RECORD: dict[MessageStatus, Update] = {
    MessageStatus.sent: _recording(
        MessageStatus.sent, sent_at=bindparam("new_sent_at", type_=UTCDateTime), last_error=None
    ),
    MessageStatus.cancelled: _recording(
        MessageStatus.cancelled, last_error=bindparam("new_last_error", type_=String)
    ),
    MessageStatus.failed: _recording(
        MessageStatus.failed, last_error=bindparam("new_last_error", type_=String)
    ),
    MessageStatus.pending: _recording(
        MessageStatus.pending,
        last_error=bindparam("new_last_error", type_=String),
        next_attempt_at=bindparam("new_next_attempt_at", type_=UTCDateTime),
    ),
}


@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str
    subject: str
    text: str
    html: str
    attempts: int
    reminder_for: int | None = None  # a reminder's booking, checked again just before sending
    invitation: Invitation | None = None  # a booking notice's calendar part, written when sent


@dataclass(frozen=True)
class Outcome:
    item: Claimed
    error: str | None = None  # why delivery failed
    cancelled: bool = False  # a reminder whose booking is no longer confirmed


def due_messages(now: datetime, limit: int) -> Select[OutboxMessage]:
    """The oldest messages to send now, locked for this claim: those waiting for their
    time, and those whose sender's lease ran out (a 'sending' row was due when it was
    claimed, so its next_attempt_at is past too). Written to match the partial index
    ix_outbox_messages_due (migration 0010), which PostgreSQL reads in this order and
    stops at `limit` rows, however many are queued."""
    return (
        select(OutboxMessage)
        .where(
            TO_SEND,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.status == MessageStatus.pending, OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


class OutboxDispatcher:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        mailer: Mailer | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = 20,
        pacer: CpuPacer | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.mailer = mailer or mailer_for(settings)
        self.clock = clock
        self.batch_size = batch_size
        self.pacer = pacer
        self._swept: datetime | None = None  # when due reminders were last queued
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:200]

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.settings.outbox_backoff_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, 6 * 3600))

    async def claim(self) -> list[Claimed]:
        now = self.clock()
        query = due_messages(now, self.batch_size)
        async with self.database.writer() as session, session.begin():
            rows = list(await session.scalars(query))
            reminders = [r.booking_id for r in rows if r.kind == MessageKind.booking_reminder]
            live = set()
            if reminders:
                live = set(
                    await session.scalars(
                        select(Booking.id).where(
                            Booking.id.in_(reminders), Booking.status == BookingStatus.confirmed
                        )
                    )
                )
            wanted = []
            for row in rows:
                if row.kind == MessageKind.booking_reminder and row.booking_id not in live:
                    row.status = MessageStatus.cancelled
                    row.last_error = "booking is no longer confirmed"
                else:
                    wanted.append(row)
            due = await render_due(session, wanted, self.settings, now=now)
            for row, status, reason in due.unsendable:
                row.status, row.last_error = status, reason
                wanted.remove(row)
            claimed = []
            for row in wanted:
                row.status = MessageStatus.sending
                row.lease_until = now + timedelta(seconds=self.settings.outbox_lease_seconds)
                row.attempts += 1
                reminder_for = row.booking_id if row.kind == MessageKind.booking_reminder else None
                claimed.append(
                    Claimed(row.id, row.recipient, row.subject or "", row.body_text or "",
                            row.body_html or "", row.attempts, reminder_for,
                            due.invitations.get(row.id))
                )  # fmt: skip
        return claimed

    async def _still_wanted(self, item: Claimed) -> bool:
        if item.reminder_for is None:
            return True
        async with self.database.reader() as session:
            status = await session.scalar(
                select(Booking.status).where(Booking.id == item.reminder_for)
            )
        return status == BookingStatus.confirmed

    def _outcome(self, outcome: Outcome, now: datetime) -> tuple[MessageStatus, dict[str, Any]]:
        item, error = outcome.item, outcome.error
        values: dict[str, Any] = {"claimed_id": item.id, "claimed_attempts": item.attempts}
        if outcome.cancelled:
            return MessageStatus.cancelled, values | {
                "new_last_error": "booking is no longer confirmed"
            }
        if error is None:
            return MessageStatus.sent, values | {"new_sent_at": now}
        if item.attempts >= self.settings.outbox_max_attempts:
            return MessageStatus.failed, values | {"new_last_error": error[:1000]}
        return MessageStatus.pending, values | {
            "new_last_error": error[:1000],
            "new_next_attempt_at": now + self.backoff(item.attempts),
        }

    async def _record(self, outcomes: Sequence[Outcome]) -> None:
        """One UPDATE per kind of outcome for the whole batch, each row only while it is
        still this claim's (nobody took it over after our lease ran out)."""
        now = self.clock()
        by_status: dict[MessageStatus, list[dict[str, Any]]] = defaultdict(list)
        for outcome in outcomes:
            status, values = self._outcome(outcome, now)
            by_status[status].append(values)
        async with self.database.engine.begin() as conn:  # PostgreSQL: autocommit
            for status, rows in by_status.items():
                await conn.execute(_RECORD[status], rows)

    async def deliver(self, item: Claimed) -> Outcome:
        """Send one claimed message; the outcome is recorded by the caller."""
        message = build_message(
            self.settings, recipient=item.recipient, subject=item.subject, text=item.text,
            html=item.html, message_id=item.id, calendar=item.invitation,
        )  # fmt: skip
        if not await self._still_wanted(item):  # cancelled since it was claimed
            return Outcome(item, cancelled=True)
        try:
            await self.mailer.send(message)
        except Exception as exc:  # any failure to deliver is retried later
            logger.warning("outbox message %s failed (attempt %s): %s", item.id, item.attempts, exc)
            return Outcome(item, f"{type(exc).__name__}: {exc}")
        return Outcome(item)

    async def send(self, item: Claimed) -> None:
        """Send one claimed message and record its outcome."""
        await self._record([await self.deliver(item)])

    async def queue_reminders(self) -> int:
        """Queue the reminders that have fallen due since the last look, at most once per
        poll interval (OUTBOX_POLL_SECONDS, the lateness a reminder may have)."""
        now = self.clock()
        every = timedelta(seconds=self.settings.outbox_poll_seconds)
        if self._swept is not None and self._swept <= now < self._swept + every:
            return 0
        before = timedelta(hours=self.settings.reminder_hours)
        queued = await queue_due_reminders(self.database, now=now, before=before)
        self._swept = now
        return queued

    async def run_once(self) -> int:
        """Queue the reminders now due, send what is due, recording each message's
        outcome as soon as it is sent (a crash sends at most the one in flight again),
        while the claims' leases are renewed. Returns how many messages were attempted."""
        await self.beat()
        await self.queue_reminders()
        claimed = await self.claim()
        if not claimed:
            await self.mailer.close()  # the queue is empty: let the mail server go
            return 0
        pending = list(claimed)
        renewing = asyncio.create_task(self._renew_while_sending(pending))
        try:
            while pending:
                outcome = await self.deliver(pending[0])
                await self._record([outcome])
                pending.pop(0)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if len(claimed) < self.batch_size:
            await self.mailer.close()
        return len(claimed)

    async def _renew_while_sending(self, pending: list[Claimed]) -> None:
        """Every third of a lease: extend the leases of the claims not sent yet, and beat."""
        every = self.settings.outbox_lease_seconds / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew(pending)
                await self.beat()
            except Exception:  # the next try, or the lease's end, settles it
                logger.warning("could not renew the outbox leases", exc_info=True)

    async def renew(self, claims: Sequence[Claimed]) -> None:
        """Extend the leases of these claims, each only while it is still this claim's."""
        if not claims:
            return
        until = self.clock() + timedelta(seconds=self.settings.outbox_lease_seconds)
        rows = [{"claimed_id": c.id, "claimed_attempts": c.attempts, "new_lease": until}
                for c in claims]  # fmt: skip
        async with self.database.engine.begin() as conn:
            await conn.execute(_RENEW, rows)

    async def beat(self) -> None:
        """This dispatcher is alive: its heartbeat row, under its own name, says when.
        Best effort: e-mail goes out even if the beat cannot be written (e.g. a worker
        started before the migration that makes its table)."""
        try:
            await heartbeat(self.database, self.name, self.clock())
        except Exception:
            logger.warning("could not write the dispatcher's heartbeat", exc_info=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: send what is due, then wait for the next poll."""
        logger.info("outbox dispatcher started")
        try:
            while not stop.is_set():
                if self.pacer:
                    self.pacer.started()
                try:
                    busy = await self.run_once()
                except Exception:
                    logger.exception("outbox dispatcher round failed")
                    busy = 0
                if busy:
                    if self.pacer and (rest := self.pacer.rest()):
                        await pause(stop, rest)
                    continue
                await pause(stop, self.settings.outbox_poll_seconds)
        finally:
            await self.mailer.close()
        logger.info("outbox dispatcher stopped")
