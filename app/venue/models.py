from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class RestaurantSettings(Base):
    """The restaurant's own settings: one row (id = 1), edited by admins through PUT /restaurant."""

    __tablename__ = "restaurant_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        CheckConstraint("max_party_size >= 1", name="max_party_size_positive"),
        CheckConstraint("max_active_bookings_per_guest >= 1", name="max_active_bookings_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    # {"monday": [{"opens": "12:00", "closes": "23:00"}], ...}
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    # [{"max_party_size": 2, "minutes": 90}, ..., {"max_party_size": null, "minutes": 150}]
    durations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    lead_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    max_party_size: Mapped[int] = mapped_column(Integer)
    closed_dates: Mapped[list[str]] = mapped_column(JSON)
    cancel_cutoff_minutes: Mapped[int] = mapped_column(Integer)
    hold_minutes: Mapped[int] = mapped_column(Integer)
    # Fair use: future bookings one customer account may hold at once (staff exempt).
    max_active_bookings_per_guest: Mapped[int] = mapped_column(
        Integer, default=4, server_default="4"
    )
    # Menu categories whose tickets go to the bar; every other category to the kitchen.
    bar_categories: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["drinks"], server_default='["drinks"]'
    )
    # How guests reach the restaurant, as an admin set it; null: the environment's
    # RESTAURANT_PHONE, RESTAURANT_EMAIL ... (app.venue.contact).
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    service_charge_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    tax_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
