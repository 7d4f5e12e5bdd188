"""Events into deliveries: one per enabled endpoint that wants the event's type, each
with the body it will be sent with (so every attempt and replay signs the same bytes).

Fan-outs run one at a time (PostgreSQL: an advisory lock tried, not waited for; SQLite:
the write lock) and take events in id order. A booking's events are written one after
the other under its row lock, so their ids follow the order of their commits, and each
endpoint's deliveries of one booking are made in the order of its events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import output as bookings_output
from app.bookings.models import Booking
from app.db.locks import LockSpace
from app.floor.models import RestaurantTable
from app.guests.models import Guest
from app.venue import service as venue_service
from app.venue.calendar import Venue
from app.webhooks import signing
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

BATCH = 200


def instant(value: datetime) -> str:
    """An instant as the payload's `timestamp`: UTC, ISO 8601 with Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _try_lock(session: AsyncSession) -> bool:
    """Whether this transaction may fan out: one at a time (SQLite: the write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(select(func.pg_try_advisory_xact_lock(LockSpace.WEBHOOKS, 0)))
    return bool(taken)


Facts = tuple[str, Guest | None, list[int]]


async def _booking_facts(
    session: AsyncSession, events: list[WebhookEvent]
) -> tuple[dict[int, Facts], dict[int, int]]:
    """For the booking events: each booking's source, guest and (a combination's) other
    tables' numbers, and the tables' numbers."""
    ids = {e.booking_id for e in events if e.data is None and e.booking_id is not None}
    tables = {e.table_id for e in events if e.data is None and e.table_id is not None}
    bookings: dict[int, Facts] = {}
    numbers: dict[int, int] = {}
    if ids:
        rows = await session.execute(
            select(Booking.id, Booking.source, Guest)
            .outerjoin(Guest, Guest.id == Booking.guest_id)
            .where(Booking.id.in_(ids))
        )
        others = await bookings_output.other_tables(session, list(ids))
        bookings = {row[0]: (row[1].value, row[2], others.get(row[0], [])) for row in rows}
    if tables:
        found = await session.execute(
            select(RestaurantTable.id, RestaurantTable.table_number).where(
                RestaurantTable.id.in_(tables)
            )
        )
        numbers = {row[0]: row[1] for row in found}
    return bookings, numbers


def booking_data(
    event: WebhookEvent,
    venue: Venue,
    facts: Facts | None,
    numbers: dict[int, int],
) -> dict[str, Any]:
    """The booking as the event saw it (status, times, party, table) with its source and
    guest as they are now, times in the restaurant's zone."""
    assert event.starts_at is not None and event.ends_at is not None
    start, end = venue.local(event.starts_at), venue.local(event.ends_at)
    source, guest, others = facts if facts is not None else (None, None, [])
    number = numbers.get(event.table_id) if event.table_id is not None else None
    return {
        "id": event.booking_id,
        "status": event.status,
        "date": start.date().isoformat(),
        "time": start.strftime("%H:%M"),
        "starts_at": to_jsonable_python(start),  # as the API writes them
        "ends_at": to_jsonable_python(end),
        "party_size": event.party_size,
        "table_numbers": sorted(others + ([] if number is None else [number])),
        "source": source,
        "guest": None
        if guest is None
        else {"name": guest.name, "phone": guest.phone, "email": guest.email},
    }


async def fan_out(session: AsyncSession, *, now: datetime) -> int:
    """Turn the oldest events into deliveries, in the caller's transaction, and delete
    them. Returns how many events were handled (0 when another process is at it)."""
    if not await _try_lock(session):
        return 0
    events = list(
        await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id).limit(BATCH))
    )
    if not events:
        return 0
    endpoints = list(
        await session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.enabled).order_by(WebhookEndpoint.id)
        )
    )
    bookings, numbers = await _booking_facts(session, events)
    venue = await venue_service.venue_for(session) if bookings or numbers else None
    for event in events:
        wanting = [e for e in endpoints if event.type in e.event_types]
        if not wanting:
            continue
        if event.data is not None:
            data = event.data
        else:
            assert venue is not None and event.booking_id is not None
            data = booking_data(event, venue, bookings.get(event.booking_id), numbers)
        body = json.dumps(
            {"type": event.type, "timestamp": instant(event.occurred_at), "data": data},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for endpoint in wanting:
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=event.id,
                    message_id=signing.new_message_id(),
                    event_type=event.type,
                    booking_id=event.booking_id,
                    body=body,
                    status=DeliveryStatus.pending,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    await session.flush()
    await session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_([e.id for e in events])))
    return len(events)
