"""Webhook endpoints, the events bookings raise, and their deliveries with each attempt.

Booking events are written by triggers on `bookings` (migration 0021) in the transaction
of the change, whoever makes it; other events by `service.emit` in the caller's
transaction. The dispatcher turns each event into one delivery per endpoint that wants
it (`fanout.py`) and sends them (`dispatcher.py`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class EventType(enum.StrEnum):
    booking_created = "booking.created"
    booking_changed = "booking.changed"  # its time, party or table changed
    booking_cancelled = "booking.cancelled"
    booking_seated = "booking.seated"
    booking_no_show = "booking.no_show"
    waitlist_offered = "waitlist.offered"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next_attempt_at (or for an earlier one to go)
    sending = "sending"  # claimed by a dispatcher until lease_until
    delivered = "delivered"  # the endpoint answered 2xx
    failed = "failed"  # gave up after the maximum attempts; replay queues it again


# The deliveries still to send: the predicate of the queue's partial indexes and of the
# claim. Spelled out, not bound, so a generic plan can still use the partial indexes.
TO_SEND = text("status IN ('pending', 'sending')")
_EVENT_TYPES = ", ".join(f"'{t.value}'" for t in EventType)


class WebhookEndpoint(Base):
    """A URL an admin registered, the event types it wants and its signing secret
    (`whsec_` + base64, made by the server; kept as is, since every delivery is signed
    with it)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """Something happened that endpoints may want: written in the transaction of the
    change (a rolled-back change leaves none), turned into deliveries and deleted by the
    dispatcher. A booking event keeps the booking's facts as they were then (its status,
    times, party and table); the rest of its payload (guest, table numbers, local times)
    is added when it is fanned out. An event from `service.emit` carries its `data`."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(f"type IN ({_EVENT_TYPES})", name="type"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    # Orders the event with the booking's others (per endpoint): no FK, the event
    # outlives nothing and the booking path pays for no key check.
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    party_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    table_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: the body as it is sent (every attempt and replay signs
    the same bytes) and where it stands."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The dispatcher's queue: only deliveries still to send, in the order claimed.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=TO_SEND,
            sqlite_where=TO_SEND,
        ),
        # "Is an earlier event of this booking still waiting for this endpoint?"
        Index(
            "ix_webhook_deliveries_waiting",
            "endpoint_id",
            "booking_id",
            "event_id",
            postgresql_where=TO_SEND,
            sqlite_where=TO_SEND,
        ),
        # One delivery per event and endpoint (also the admin's list, newest first).
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # The event's id: deliveries of one booking to one endpoint go in this order.
    event_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(64))  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="webhook_delivery_status",
        ),
        default=DeliveryStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in this round (replay: 0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Base):
    """One try to deliver: the endpoint's status code (none when it could not be
    reached), what went wrong, when and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
