from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

# One record per address among those staff made (an account has its own).
_HAS_EMAIL = text("email IS NOT NULL AND user_id IS NULL")


class Guest(Base):
    """One person the restaurant books for: matched by e-mail, else by phone; linked to
    their account when they have one. Visits, cancellations and no-shows are counted
    from their bookings, never stored."""

    __tablename__ = "guests"
    __table_args__ = (
        Index(
            "uq_guests_email",
            "email",
            unique=True,
            postgresql_where=_HAS_EMAIL,
            sqlite_where=_HAS_EMAIL,
        ),
        Index("ix_guests_phone", "phone"),
        Index("ix_guests_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    allergies: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
