"""Writing booking e-mails to the outbox, in the caller's transaction, and rendering
the ones queued without their text when they are sent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings.models import Booking, BookingRecord, BookingStatus
from app.config import Settings
from app.db.engine import Database
from app.db.statements import Conn, Query, session_conn
from app.floor.models import RestaurantTable
from app.guests.models import Guest
from app.notifications import invitation
from app.notifications.content import booking_context, common_context, render
from app.notifications.invitation import Invitation
from app.notifications.models import REMINDER, MessageKind, MessageStatus, OutboxMessage
from app.venue import service as venue_service
from app.venue.calendar import Venue

log = logging.getLogger("app.outbox")


AnyBooking = Booking | BookingRecord


def _message(
    kind: MessageKind,
    booking: AnyBooking,
    recipient: str,
    *,
    due: datetime,
    now: datetime,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An outbox row; without a context its text is rendered when it is sent."""
    subject, text, html = render(kind, context) if context is not None else (None, None, None)
    return {
        "kind": kind, "booking_id": booking.id, "recipient": recipient, "subject": subject,
        "body_text": text, "body_html": html, "status": MessageStatus.pending, "attempts": 0,
        "next_attempt_at": due, "created_at": now, "note": None,
    }  # fmt: skip


_OUTBOX = OutboxMessage.metadata.tables["outbox_messages"]
_INSERT = Query(
    insert(_OUTBOX),
    columns=["kind", "booking_id", "recipient", "subject", "body_text", "body_html", "status",
             "attempts", "next_attempt_at", "created_at", "note"],
)  # fmt: skip


async def _queue(conn: Conn, messages: list[dict[str, Any]]) -> None:
    """Insert the messages in the caller's transaction."""
    await conn.execute(_INSERT, messages)


async def booking_confirmed(
    conn: Conn, booking: AnyBooking, *, recipient: str, now: datetime
) -> None:
    """Queue the confirmation, rendered when it is sent (render_due) from the booking as it
    stands then; the single-statement booking on PostgreSQL (book_table) writes the same
    row. The reminder is queued later, when it falls due (queue_due_reminders)."""
    message = _message(MessageKind.booking_confirmed, booking, recipient, due=now, now=now)
    await _queue(conn, [message])


async def booking_changed(
    conn: Conn, booking: AnyBooking, *, recipient: str, now: datetime
) -> None:
    """Queue the "booking changed" notice, rendered when it is sent from the booking as it
    stands then (so two quick changes both describe the latest state)."""
    message = _message(MessageKind.booking_changed, booking, recipient, due=now, now=now)
    await _queue(conn, [message])


async def sent_lately(
    session: AsyncSession, kind: MessageKind, recipient: str, *, since: datetime
) -> bool:
    """Whether a message of this kind was queued for `recipient` since `since`."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.recipient == recipient,
            OutboxMessage.created_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def account_message(
    session: AsyncSession,
    kind: MessageKind,
    *,
    settings: Settings,
    recipient: str,
    name: str,
    now: datetime,
    venue: Venue | None = None,
    **context: Any,
) -> None:
    """Queue an e-mail about an account (account_welcome, account_exists, password_reset),
    written now; `context` adds to what its templates are given (password_reset: reset_url
    and minutes). A caller whose transaction has not written yet on SQLite passes the
    `venue` it read earlier: a read here, then the write, could be refused at once when
    another writer came between."""
    venue = venue or await venue_service.venue_for(session)
    context = {**common_context(settings, venue), "name": name, "reset_url": None,
               **context}  # fmt: skip
    subject, text, html = render(kind, context)
    row = {
        "kind": kind, "booking_id": None, "recipient": recipient, "subject": subject,
        "body_text": text, "body_html": html, "status": MessageStatus.pending, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "note": None,
    }  # fmt: skip
    await _queue(await session_conn(session), [row])


async def waitlist_offer(
    conn: Conn, *, hold_id: int, recipient: str, context: dict[str, Any], now: datetime
) -> None:
    """Queue the e-mail offering a waitlisted guest the table held for them (written now:
    its link's token is known only here)."""
    subject, text, html = render(MessageKind.waitlist_offer, context)
    row = {
        "kind": MessageKind.waitlist_offer, "booking_id": hold_id, "recipient": recipient,
        "subject": subject, "body_text": text, "body_html": html,
        "status": MessageStatus.pending, "attempts": 0, "next_attempt_at": now,
        "created_at": now, "note": None,
    }  # fmt: skip
    await _queue(conn, [row])


_REMINDER_ROW = (OutboxMessage.booking_id == Booking.id) & (
    OutboxMessage.kind == MessageKind.booking_reminder
)


async def queue_due_reminders(database: Database, *, now: datetime, before: timedelta) -> int:
    """Queue the reminder of every confirmed booking whose reminder time (`before` its
    start) has come, unless it was booked after that time (it was just confirmed) or has
    its reminder already. Reminders are rendered when sent, like confirmations. Returns how
    many were queued.

    Read first, outside the write lock: nearly always nothing is due. The unique index on
    reminders (migration 0011) is what keeps one per booking when dispatchers race."""
    if before <= timedelta(0):
        return 0
    async with database.reader() as session:
        due = (
            await session.execute(
                select(Booking.id, Booking.starts_at, Booking.created_at, Guest.email)
                .join(Guest, Guest.id == Booking.guest_id)
                .where(
                    Guest.email.is_not(None),
                    Booking.status == BookingStatus.confirmed,
                    Booking.starts_at > now,
                    Booking.starts_at <= now + before,
                    ~exists().where(_REMINDER_ROW),
                )
            )
        ).all()
    rows = [
        {"kind": MessageKind.booking_reminder, "booking_id": booking_id, "recipient": email,
         "status": MessageStatus.pending, "attempts": 0, "next_attempt_at": starts_at - before,
         "created_at": now}
        for booking_id, starts_at, created_at, email in due
        if created_at < starts_at - before
    ]  # fmt: skip
    if not rows:
        return 0
    async with database.writer() as session, session.begin():
        dialect = sqlite if database.is_sqlite else postgresql
        statement = dialect.insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["booking_id"], index_where=REMINDER
        )
        result = await session.execute(statement.returning(OutboxMessage.id), rows)
        return len(result.all())


async def booking_cancelled(
    session: AsyncSession,
    booking: Booking,
    *,
    settings: Settings,
    recipient: str,
    name: str,
    table_number: int,
    now: datetime,
    by_restaurant: bool,
    note: str | None = None,
) -> None:
    """Queue the cancellation notice and withdraw the reminder still waiting. `note` is
    the restaurant's reason, told to the guest. Written now, while the guest's name is
    known (an account being deleted cancels its bookings first); its calendar part
    (METHOD:CANCEL) is added when it is sent."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == MessageKind.booking_reminder,
            OutboxMessage.status == MessageStatus.pending,
        )
        .values(status=MessageStatus.cancelled, last_error="booking cancelled")
    )
    venue = await venue_service.venue_for(session)
    context = booking_context(settings, venue, booking, name, table_number)
    context["by_restaurant"] = by_restaurant
    context["note"] = note or ""
    notice = _message(
        MessageKind.booking_cancelled, booking, recipient, due=now, now=now, context=context
    )
    notice["note"] = note
    await _queue(await session_conn(session), [notice])


_TO_RENDER = (
    select(Booking, RestaurantTable.table_number, func.coalesce(Guest.name, User.name), Guest.email)
    .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
    .outerjoin(Guest, Guest.id == Booking.guest_id)
    .outerjoin(User, User.id == Booking.user_id)
)


class Unsendable(NamedTuple):
    row: OutboxMessage
    status: MessageStatus  # cancelled: its booking is gone; failed: it could not be written
    reason: str


class Due(NamedTuple):
    unsendable: list[Unsendable]  # the rows that cannot be sent, and why
    invitations: dict[int, Invitation]  # by row id: the calendar part of a booking notice


async def _sequences(session: AsyncSession, rows: Sequence[OutboxMessage]) -> dict[int, int]:
    """Each change or cancellation notice's SEQUENCE, by row id: how many change and
    cancellation notices of its booking were queued up to it (ids only grow)."""
    raising = [r for r in rows if r.kind in invitation.RAISING]
    if not raising:
        return {}
    result = await session.execute(
        select(OutboxMessage.booking_id, OutboxMessage.id).where(
            OutboxMessage.booking_id.in_({r.booking_id for r in raising}),
            OutboxMessage.kind.in_(invitation.RAISING),
        )
    )
    queued: dict[int | None, list[int]] = {}
    for booking_id, row_id in result:
        queued.setdefault(booking_id, []).append(row_id)
    return {r.id: sum(1 for i in queued.get(r.booking_id, ()) if i <= r.id) for r in raising}


async def sequence_of(session: AsyncSession, booking_id: int) -> int:
    """The SEQUENCE of the booking's latest notice (as `_sequences` counts it): its change
    and cancellation notices queued so far."""
    count = await session.scalar(
        select(func.count()).where(
            OutboxMessage.booking_id == booking_id, OutboxMessage.kind.in_(invitation.RAISING)
        )
    )
    return int(count or 0)


async def render_due(
    session: AsyncSession, rows: Sequence[OutboxMessage], settings: Settings, *, now: datetime
) -> Due:
    """Give each row queued without its text (a confirmation, change or reminder) its
    subject and bodies, from its booking, table and guest as they are now; kept on the
    row, so a retry sends the same text. Gather the calendar invitation of each booking
    notice (confirmation, change, cancellation; not kept: a retry builds it again).
    A row that cannot be sent is returned, with why: one that fails to render is set
    aside rather than blocking the messages queued after it."""
    inviting = [r for r in rows if r.kind in invitation.METHODS and r.booking_id is not None]
    wanted = {r.booking_id for r in rows if r.subject is None and r.booking_id is not None}
    wanted.update(r.booking_id for r in inviting if r.booking_id is not None)
    found = {}
    if wanted:
        result = await session.execute(_TO_RENDER.where(Booking.id.in_(wanted)))
        found = {booking.id: (booking, number, name, email)
                 for booking, number, name, email in result}  # fmt: skip
    venue = await venue_service.venue_for(session) if found else None
    sequences = await _sequences(session, inviting) if found else {}
    due = Due([], {})
    for row in rows:
        source = found.get(row.booking_id) if row.booking_id is not None else None
        if row.subject is None and (source is None or venue is None):
            due.unsendable.append(Unsendable(row, MessageStatus.cancelled,
                                             "booking no longer exists"))  # fmt: skip
            continue
        if source is None or venue is None:
            continue  # written already; its booking is gone, so no invitation
        booking, number, name, guest_email = source
        if row.subject is None and guest_email != row.recipient:
            # Written when sent from the booking as it is now: it has another guest (or
            # none), so this address is no longer the one to tell, nor to give its link.
            due.unsendable.append(Unsendable(row, MessageStatus.cancelled,
                                             "the booking's guest has changed"))  # fmt: skip
            continue
        try:
            if row.subject is None:
                context = booking_context(settings, venue, booking, name or "guest", number)
                row.subject, row.body_text, row.body_html = render(row.kind, context)
            if row.kind in invitation.METHODS:
                due.invitations[row.id] = invitation.for_booking(
                    row.kind, booking, settings=settings, venue=venue, recipient=row.recipient,
                    guest_name=name or "", sequence=sequences.get(row.id, 0), now=now,
                )  # fmt: skip
        except Exception as exc:
            log.exception("outbox message %s could not be written", row.id)
            reason = f"could not be written: {type(exc).__name__}: {exc}"[:1000]
            due.unsendable.append(Unsendable(row, MessageStatus.failed, reason))
    return due
