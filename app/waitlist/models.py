from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Time, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class EntryKind(enum.StrEnum):
    booking = "booking"  # a guest waiting for a table ahead (POST /waitlist)
    walk_in = "walk_in"  # a party at the door, added by staff with a quoted wait


class EntryStatus(enum.StrEnum):
    waiting = "waiting"
    offered = "offered"  # a table is held for it (hold_id) until offer_expires_at
    booked = "booked"  # the offer was confirmed: hold_id is now the booking's id
    expired = "expired"  # its offer lapsed, or its window passed
    declined = "declined"  # the guest said no to the offer
    cancelled = "cancelled"  # the guest left the list, or staff removed the entry
    seated = "seated"  # a walk-in was given a table


# The entries still in the queue (a partial unique index, the offer pass's reads).
OPEN_SQL = "status IN ('waiting', 'offered')"


class WaitlistEntry(Base):
    """One party waiting for a table on one restaurant-local date. A guest's own entry
    (kind booking) names its account and the window of start times it would take; a
    walk-in names its guest record (app.guests) and the wait staff quoted."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        # The queue of a date, oldest first: the offer pass reads its head.
        Index("ix_waitlist_entries_day_status", "day", "status", "created_at", "id"),
        Index("ix_waitlist_entries_user_id", "user_id"),
        # One entry in the queue per account and date.
        Index(
            "uq_waitlist_entries_user_day",
            "user_id",
            "day",
            unique=True,
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
        Index("uq_waitlist_entries_offer_token_hash", "offer_token_hash", unique=True),
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        CheckConstraint(
            "kind <> 'booking' OR (user_id IS NOT NULL AND earliest IS NOT NULL "
            "AND latest IS NOT NULL AND earliest <= latest)",
            name="booking_has_window",
        ),
        CheckConstraint(
            "kind <> 'walk_in' OR (quoted_wait_minutes IS NOT NULL AND guest_id IS NOT NULL)",
            name="walk_in_has_quote",
        ),
        CheckConstraint(
            "status <> 'offered' OR (hold_id IS NOT NULL AND offer_expires_at IS NOT NULL "
            "AND offer_token_hash IS NOT NULL)",
            name="offer_has_hold",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(
        Enum(EntryKind, native_enum=False, length=16, create_constraint=True, name="entry_kind")
    )
    status: Mapped[EntryStatus] = mapped_column(
        Enum(
            EntryStatus, native_enum=False, length=16, create_constraint=True, name="entry_status"
        ),
        default=EntryStatus.waiting,
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    guest_id: Mapped[int | None] = mapped_column(
        ForeignKey("guests.id", ondelete="RESTRICT"), nullable=True
    )
    day: Mapped[date] = mapped_column(Date)  # restaurant-local
    earliest: Mapped[time | None] = mapped_column(Time, nullable=True)  # local start times
    latest: Mapped[time | None] = mapped_column(Time, nullable=True)
    party_size: Mapped[int] = mapped_column(Integer)
    quoted_wait_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The offer: the hold kept for the entry (its id becomes the booking's once confirmed).
    hold_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True
    )
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # SHA-256 of the offer link's token (hex); the token itself is only in the e-mail.
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
