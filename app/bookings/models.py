from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class BookingStatus(enum.StrEnum):
    confirmed = "confirmed"
    cancelled = "cancelled"
    seated = "seated"
    completed = "completed"
    no_show = "no_show"
    # A hold (POST /bookings/holds): the tables are kept for a guest filling in their
    # details until `hold_expires_at`; `expired` once a writer found it over (or it was
    # released). A hold is not a booking: lists, reports and e-mails never see one.
    held = "held"
    expired = "expired"


# A booking in one of these states holds its table for [starts_at, ends_at).
ACTIVE_STATUSES = (BookingStatus.confirmed, BookingStatus.seated)
_ACTIVE_SQL = "status IN ('confirmed', 'seated')"
# The rows the exclusion constraint keeps apart: active bookings and holds. A hold past
# its expiry still counts there until a writer marks it expired (statements.EXPIRE_HOLDS,
# under the table's lock); every read ignores it from the instant it expires.
_CLAIMS_SQL = "status IN ('confirmed', 'seated', 'held')"


class BookingSource(enum.StrEnum):
    online = "online"  # a guest booked for themselves
    phone = "phone"  # staff took it on the phone
    walk_in = "walk_in"  # staff booked a guest standing at the door


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        # Serves the overlap check: one table, starts in a bounded window.
        Index("ix_bookings_table_id_starts_at", "table_id", "starts_at"),
        Index("ix_bookings_user_id_starts_at", "user_id", "starts_at"),
        Index("ix_bookings_starts_at", "starts_at"),
        Index("ix_bookings_guest_id_starts_at", "guest_id", "starts_at"),
        Index("ix_bookings_combined_with", "combined_with"),
        CheckConstraint(
            "(status = 'held') = (hold_expires_at IS NOT NULL) OR status = 'expired'",
            name="hold_has_expiry",
        ),
        # PostgreSQL: no two active bookings (or live holds) of one table may overlap,
        # whoever writes them; a combination's member tables each have a row.
        ExcludeConstraint(
            ("table_id", "="),
            (func.tstzrange(text("starts_at"), text("ends_at"), text("'[)'")), "&&"),
            name="ex_bookings_no_overlap",
            using="gist",
            where=text(_CLAIMS_SQL),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    guest_id: Mapped[int | None] = mapped_column(
        ForeignKey("guests.id", ondelete="RESTRICT"), nullable=True
    )
    source: Mapped[BookingSource] = mapped_column(
        Enum(
            BookingSource,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="booking_source",
        ),
        default=BookingSource.online,
        server_default=BookingSource.online.value,
    )
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="RESTRICT"))
    party_size: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(
            BookingStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="booking_status",
        ),
        default=BookingStatus.confirmed,
    )
    special_requests: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A combination booking's other tables: one row each, pointing at the booking (the
    # row guests and staff see), with no user or guest of its own. A trigger keeps their
    # status and times the booking's (migration 0019).
    combined_with: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=True
    )
    # Why staff booked past the slot's pacing limit (null: the booking kept to it).
    pacing_override_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking just inserted by the booking engine, without an ORM instance."""

    id: int
    user_id: int | None
    table_id: int
    party_size: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    special_requests: str | None
    created_at: datetime
    guest_id: int | None
    source: BookingSource
    pacing_override_reason: str | None = None


class IdempotencyKey(Base):
    """The first response to a POST carrying an Idempotency-Key, replayed for 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
