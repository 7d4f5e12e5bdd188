from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    booking_confirmed = "booking_confirmed"
    booking_cancelled = "booking_cancelled"
    booking_reminder = "booking_reminder"
    account_welcome = "account_welcome"  # an account was made (registration)
    account_exists = "account_exists"  # someone tried to register an address that has one
    booking_changed = "booking_changed"  # a booking's time, party or table changed
    password_reset = "password_reset"  # a link to choose a new password
    waitlist_offer = "waitlist_offer"  # a table held for a waitlisted guest to confirm


class MessageStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next_attempt_at
    sending = "sending"  # claimed by a dispatcher until lease_until
    sent = "sent"
    failed = "failed"  # gave up after the maximum attempts; last_error says why
    cancelled = "cancelled"  # no longer wanted (a reminder for a booking since cancelled)


# The messages still to send: the predicate of the dispatcher's queue index, and of its
# claim query. Spelled out rather than bound as parameters: a plan made for unknown values
# (a prepared statement's generic plan) could not use the partial index.
TO_SEND = text("status IN ('pending', 'sending')")
REMINDER = text("kind = 'booking_reminder'")


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    # The dispatcher's queue (migration 0010): only messages still to send, in the order
    # they are claimed, so a claim reads the rows it takes, however long the backlog.
    __table_args__ = (
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            "id",
            postgresql_where=TO_SEND,
            sqlite_where=TO_SEND,
        ),
        # At most one account note an hour to an address (migration 0013).
        Index("ix_outbox_messages_recipient", "recipient", "created_at"),
        # One reminder per booking, however many dispatchers queue it (migration 0011).
        Index(
            "uq_outbox_messages_reminder",
            "booking_id",
            unique=True,
            postgresql_where=REMINDER,
            sqlite_where=REMINDER,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(
        Enum(MessageKind, native_enum=False, length=32, create_constraint=True, name="message_kind")
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True, index=True
    )
    recipient: Mapped[str] = mapped_column(String(320))
    # Why, where the message says so: the restaurant's reason for cancelling a booking.
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Empty until sent for confirmations and reminders: rendered from the booking then
    # (outbox.render_due) and kept, so a retry sends the same text.
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[MessageStatus] = mapped_column(
        Enum(
            MessageStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="message_status",
        ),
        default=MessageStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """The last round of each e-mail dispatcher, under its own name (host and process):
    readiness reports whether e-mails are being sent (migration 0013)."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
