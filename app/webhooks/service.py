"""Webhook endpoints (the admin's routes), their deliveries, and `emit` for events that
no trigger raises."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, Integer, String, bindparam, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import UTCDateTime
from app.db.statements import Conn, Query, session_conn
from app.webhooks import signing
from app.webhooks.exceptions import DeliveryNotFound, DeliveryQueued, EndpointNotFound
from app.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from app.webhooks.schemas import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)

# -- Events from code ------------------------------------------------------------------

_EMIT = Query(
    insert(WebhookEvent).from_select(
        ["type", "booking_id", "data", "occurred_at"],
        select(
            bindparam("type", type_=String()),
            bindparam("booking_id", type_=Integer()),
            bindparam("data", type_=JSON()),
            bindparam("occurred_at", type_=UTCDateTime()),
        ).where(exists().where(WebhookEndpoint.enabled)),
        include_defaults=False,
    )
)


async def emit(
    conn: Conn | AsyncSession,
    event_type: EventType | str,
    data: Mapping[str, Any],
    *,
    now: datetime,
    booking_id: int | None = None,
) -> None:
    """Queue an event in the caller's transaction (a rollback takes it back), only
    while an endpoint is enabled; the dispatcher delivers `{"type", "timestamp", "data"}`
    to each endpoint that wants `event_type`. `booking_id` sends it in order with that
    booking's own events (booking.created ... of the same id), for each endpoint: pass
    it with the booking's row locked or just inserted, as the triggers' events are.
    Events go out in the order they were written (per endpoint; strictly, whatever
    fails, within one booking). Booking events themselves are raised by the database
    (migration 0021)."""
    kind = EventType(event_type)
    if isinstance(conn, AsyncSession):
        # Changes still in the session are written first, so their triggers' events
        # come before this one (the session does not flush by itself).
        await conn.flush()
        conn = await session_conn(conn)
    values = {"type": kind.value, "booking_id": booking_id, "occurred_at": now}
    await conn.execute(_EMIT, values | {"data": to_jsonable_python(dict(data))})


# -- Endpoints -------------------------------------------------------------------------


async def list_endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    return list(await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


async def get_endpoint(
    session: AsyncSession, endpoint_id: int, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)
    if endpoint is None:
        raise EndpointNotFound(f"Webhook endpoint {endpoint_id} not found")
    return endpoint


def _with_secret(endpoint: WebhookEndpoint) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret.model_validate(endpoint)


async def create_endpoint(
    session: AsyncSession, data: WebhookEndpointCreate, *, now: datetime
) -> WebhookEndpointWithSecret:
    endpoint = WebhookEndpoint(
        url=data.url, description=data.description, event_types=[t.value for t in data.event_types],
        enabled=data.enabled, secret=signing.new_secret(), created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(endpoint)
    await session.flush()
    return _with_secret(endpoint)


async def update_endpoint(
    session: AsyncSession, endpoint_id: int, data: WebhookEndpointUpdate, *, now: datetime
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    given = data.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None:
            continue  # null means "unchanged", as leaving the field out
        if name == "event_types":
            value = [EventType(t).value for t in value]
        setattr(endpoint, name, value)
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def rotate_secret(
    session: AsyncSession, endpoint_id: int, *, now: datetime
) -> WebhookEndpointWithSecret:
    """A new secret, at once: deliveries not yet sent are signed with it (each attempt
    is signed when it is made)."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    await session.flush()
    return _with_secret(endpoint)


async def delete_endpoint(session: AsyncSession, endpoint_id: int) -> None:
    """The endpoint goes with its deliveries and their attempts."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    await session.delete(endpoint)
    await session.flush()


# -- Deliveries ------------------------------------------------------------------------


async def _delivery_out(
    session: AsyncSession, rows: list[WebhookDelivery]
) -> list[WebhookDeliveryOut]:
    attempts: dict[int, list[WebhookAttemptOut]] = {row.id: [] for row in rows}
    if rows:
        found = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.id)
        )
        for attempt in found:
            attempts[attempt.delivery_id].append(WebhookAttemptOut.model_validate(attempt))
    return [
        WebhookDeliveryOut(
            id=row.id,
            message_id=row.message_id,
            event_type=EventType(row.event_type),
            booking_id=row.booking_id,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            payload=json.loads(row.body),
            attempt_log=attempts[row.id],
        )
        for row in rows
    ]


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: int,
    *,
    status: DeliveryStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[WebhookDeliveryOut], int]:
    """An endpoint's deliveries, newest event first, each with its attempts."""
    await get_endpoint(session, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(WebhookDelivery.event_id.desc()).limit(limit).offset(offset)
    )
    return await _delivery_out(session, list(rows)), int(total or 0)


async def _delivery(
    session: AsyncSession, endpoint_id: int, delivery_id: int, *, for_update: bool = False
) -> WebhookDelivery:
    await get_endpoint(session, endpoint_id)
    row = await session.get(WebhookDelivery, delivery_id, with_for_update=for_update)
    if row is None or row.endpoint_id != endpoint_id:
        raise DeliveryNotFound(f"Delivery {delivery_id} of endpoint {endpoint_id} not found")
    return row


async def get_delivery(
    session: AsyncSession, endpoint_id: int, delivery_id: int
) -> WebhookDeliveryOut:
    return (await _delivery_out(session, [await _delivery(session, endpoint_id, delivery_id)]))[0]


async def replay(
    session: AsyncSession, endpoint_id: int, delivery_id: int, *, now: datetime
) -> WebhookDeliveryOut:
    """Queue a delivered or failed delivery again, now, with a fresh round of attempts:
    the same body and webhook-id (a receiver that keeps ids sees it is the same message)."""
    row = await _delivery(session, endpoint_id, delivery_id, for_update=True)
    if row.status in (DeliveryStatus.pending, DeliveryStatus.sending):
        raise DeliveryQueued(
            f"Delivery {row.id} is {row.status.value} already: it will be sent (again)"
        )
    row.status = DeliveryStatus.pending
    row.attempts = 0
    row.next_attempt_at = now
    row.lease_until = None
    row.last_error = None
    await session.flush()
    return (await _delivery_out(session, [row]))[0]
