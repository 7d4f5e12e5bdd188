"""Writing booking e-mails to the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Principal, User
from app.bookings.models import Booking, BookingRecord
from app.db import Conn, Query, as_conn
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.venue import service as venue_service


@lru_cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("app.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(kind: MessageKind, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, html) for a message kind."""
    env = _templates()
    subject = env.get_template(f"{kind.value}.subject.j2").render(context).strip()
    text = env.get_template(f"{kind.value}.txt.j2").render(context)
    html = env.get_template(f"{kind.value}.html.j2").render({**context, "subject": subject})
    return subject, text, html


Guest = User | Principal
AnyBooking = Booking | BookingRecord


async def _context(
    target: AsyncSession | Conn, booking: AnyBooking, guest: Guest, table_number: int
) -> dict[str, Any]:
    venue = await venue_service.get_venue(target)
    local = venue.local(booking.starts_at)
    return {
        "name": guest.name,
        "restaurant": venue.name,
        "timezone": venue.zone.key,
        "date": f"{local:%A} {local.day} {local:%B %Y}",
        "time": f"{local:%H:%M}",
        "party_size": booking.party_size,
        "table_number": table_number,
        "booking_id": booking.id,
        "special_requests": booking.special_requests or "",
        "by_restaurant": False,
    }


def _message(
    kind: MessageKind,
    booking: AnyBooking,
    guest: Guest,
    context: dict[str, Any],
    *,
    due: datetime,
    now: datetime,
) -> dict[str, Any]:
    subject, text, html = render(kind, context)
    return {
        "kind": kind, "booking_id": booking.id, "recipient": guest.email, "subject": subject,
        "body_text": text, "body_html": html, "status": MessageStatus.pending, "attempts": 0,
        "next_attempt_at": due, "created_at": now,
    }  # fmt: skip


_OUTBOX = OutboxMessage.metadata.tables["outbox_messages"]
_INSERT = Query(
    insert(_OUTBOX),
    columns=["kind", "booking_id", "recipient", "subject", "body_text", "body_html", "status",
             "attempts", "next_attempt_at", "created_at"],
)  # fmt: skip


async def _queue(target: AsyncSession | Conn, messages: list[dict[str, Any]]) -> None:
    """Insert the messages in the caller's transaction."""
    await (await as_conn(target)).execute(_INSERT, messages)


async def booking_confirmed(
    target: AsyncSession | Conn,
    booking: AnyBooking,
    *,
    guest: Guest,
    table_number: int,
    now: datetime,
    reminder_before: timedelta,
) -> None:
    """Queue the confirmation now, and a reminder `reminder_before` the booking unless
    that moment has already passed (a booking made inside the window gets none)."""
    context = await _context(target, booking, guest, table_number)
    messages = [_message(MessageKind.booking_confirmed, booking, guest, context, due=now, now=now)]
    remind_at = booking.starts_at - reminder_before
    if reminder_before > timedelta(0) and remind_at > now:
        messages.append(
            _message(MessageKind.booking_reminder, booking, guest, context, due=remind_at, now=now)
        )
    await _queue(target, messages)


async def booking_cancelled(
    session: AsyncSession,
    booking: Booking,
    *,
    guest: Guest,
    table_number: int,
    now: datetime,
    by_restaurant: bool,
) -> None:
    """Queue the cancellation notice and withdraw the reminder still waiting."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == MessageKind.booking_reminder,
            OutboxMessage.status == MessageStatus.pending,
        )
        .values(status=MessageStatus.cancelled, last_error="booking cancelled")
    )
    context = await _context(session, booking, guest, table_number)
    context["by_restaurant"] = by_restaurant
    await _queue(
        session,
        [_message(MessageKind.booking_cancelled, booking, guest, context, due=now, now=now)],
    )
